"""`make demo`: the app's jobs end to end on the testbed, across a simulated week.

Installs a throwaway site (`demo.localhost`), seeds demo data, starts one real RQ worker, then
runs a scheduler tick for every hour of a week (Monday 00:00 to Sunday 23:00) and lets the
worker run whatever was due. Prints, per scheduled job, how often it ran and what it did; then
runs the user-triggered jobs (exports, reports, imports, processing runs) and prints theirs.
"""

import datetime
import sys
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import support  # noqa: E402  (puts the testbed's frappe on sys.path)

# isort: split
import frappe  # noqa: E402
from frappe.utils.background_jobs import is_job_enqueued  # noqa: E402
from scenes import SCENES  # noqa: E402


def week_start(today: datetime.date) -> datetime.datetime:
	monday = today - datetime.timedelta(days=today.weekday())
	return datetime.datetime.combine(monday, datetime.time(0, 0))


def wait_for_worker(job_types=(), timeout=600):
	"""Until the queues are empty and each of `job_types`' jobs has ended (a job the worker has
	just taken is briefly in neither the queue nor the started registry)."""
	deadline = time.monotonic() + timeout
	while time.monotonic() < deadline and (
		support.pending_jobs() or any(is_job_enqueued(job_type.rq_job_id) for job_type in job_types)
	):
		time.sleep(0.2)
	frappe.db.commit()


def tick(at: datetime.datetime) -> list[str]:
	"""One scheduler tick at `at`; afterwards the job types remember `at` as their last run, as
	they would had the week been real (the jobs themselves stamp the real clock)."""
	due = []
	for name in frappe.get_all("Scheduled Job Type", filters={"stopped": 0}, pluck="name"):
		job_type = frappe.get_doc("Scheduled Job Type", name)
		if job_type.is_event_due(at) and job_type.enqueue(force=True):
			due.append(job_type)
	frappe.db.commit()
	wait_for_worker(due)
	for job_type in due:
		frappe.db.set_value("Scheduled Job Type", job_type.name, "last_execution", at, update_modified=False)
	frappe.db.commit()
	return [job_type.method for job_type in due]


TABLE_WIDTH = 120
WEEK = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def days_label(days: set[str]) -> str:
	if set(WEEK) == days:
		return "every day"
	if set(WEEK[:5]) == days:
		return "Mon-Fri"
	return ", ".join(day for day in WEEK if day in days)


def print_table(title, columns, rows):
	"""Columns as wide as their cells, except the last, wrapped so a line fits TABLE_WIDTH."""
	print(f"\n{title}")
	widths = [max(len(str(row[i])) for row in [columns, *rows]) for i in range(len(columns))]
	widths[-1] = min(widths[-1], TABLE_WIDTH - sum(widths[:-1]) - 2 * (len(widths) - 1))
	for row in [columns, ["-" * w for w in widths], *rows]:
		last = textwrap.wrap(str(row[-1]), widths[-1]) or [""]
		cells = [str(cell).ljust(width) for cell, width in zip(row[:-1], widths, strict=False)]
		print("  ".join([*cells, last[0]]).rstrip())
		indent = " " * (sum(widths[:-1]) + 2 * (len(widths) - 1))
		for line in last[1:]:
			print(indent + line)


def main():
	print("Installing the demo site and seeding demo data ...")
	support.install_test_site("demo")
	for scene in SCENES:
		scene.seed()
	frappe.db.commit()

	start = week_start(datetime.date.today())
	frappe.db.sql(
		"update `tabScheduled Job Type` set last_execution=%s", start - datetime.timedelta(minutes=1)
	)
	frappe.db.commit()

	worker = support.start_worker(burst=False)
	runs: dict[str, list[datetime.datetime]] = {}
	try:
		print(
			f"Running the scheduler hourly from {start:%a %Y-%m-%d %H:%M} for 7 days with a real worker ..."
		)
		day_runs = 0
		for hour in range(7 * 24):
			at = start + datetime.timedelta(hours=hour, minutes=11)  # *_long jobs have up to 10 min jitter
			for method in tick(at):
				runs.setdefault(method, []).append(at)
				day_runs += 1
			if hour % 24 == 23:
				print(f"  {at:%a %Y-%m-%d}: {day_runs} job runs")
				day_runs = 0

		scheduled = [scene for scene in SCENES if scene.method]
		rows = []
		for scene in scheduled:
			times = runs.get(scene.method, [])
			failed = frappe.db.count(
				"Scheduled Job Log", {"scheduled_job_type": scene.job_type_name, "status": "Failed"}
			)
			when = days_label({f"{t:%a}" for t in times})
			rows.append((scene.title, scene.schedule, len(times), failed, when or "-", scene.report()))
		print_table(
			"Scheduled jobs over the simulated week",
			("job", "schedule", "runs", "failed", "days", "what it did"),
			rows,
		)

		on_demand = [scene for scene in SCENES if not scene.method]
		if on_demand:
			rows = []
			for scene in on_demand:
				scene.run()
				wait_for_worker()
				rows.append((scene.title, scene.report()))
			print_table("User-triggered jobs", ("job", "what it did"), rows)
	finally:
		worker.terminate()
		worker.wait(timeout=30)
	print("\nEverything above ran on real MariaDB, Redis and RQ; see tests/.sites/demo for the site.")


if __name__ == "__main__":
	main()
