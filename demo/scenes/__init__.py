"""One scene per job: demo data, and one line that says what the job did.

A scene has `title`, `method` (the scheduled method, or None for a user-triggered job),
`schedule`, `job_type_name`, `seed()`, `report()` and, when user-triggered, `run()`.
"""

from scenes import invoices, maintenance, reports_reminders, user_jobs
from scenes import sync as external_sync

SCENES = [
	*maintenance.SCENES,
	*reports_reminders.SCENES,
	*external_sync.SCENES,
	*user_jobs.SCENES,
	*invoices.SCENES,
]
