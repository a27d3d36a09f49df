"""One scene per job: demo data, and one line that says what the job did.

A scene has `title`, `method` (the scheduled method, or None for a user-triggered job),
`schedule`, `job_type_name`, `seed()`, `report()` and, when user-triggered, `run()`.
"""

from scenes import maintenance

SCENES = [*maintenance.SCENES]
