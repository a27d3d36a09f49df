"""Example 1: daily database maintenance (`daily_long`, the long queue).

Old Error Logs, Activity Logs, sent/expired/failed emails (with their recipients), Versions
beyond the newest few of each document and closed Failed Jobs, deleted set-based in committed batches within a time
budget. Frappe's Log Settings clears some of these too, each with its own days (Error Log 14,
Email Queue 30, Activity Log 90 by default): whichever is shorter wins. The app's own Sync Log is
registered with Log Settings (hooks.py), not cleared here. Each cleanup is independent: one that fails is logged and the others still run.
"""

import frappe
from frappe import _
from frappe.utils import add_days, now_datetime

from myapp.utils.batching import TimeBudget, delete_selected, delete_where
from myapp.utils.progress import Progress

SETTINGS = "Maintenance Settings"


def daily_database_maintenance() -> dict:
	settings = frappe.get_single(SETTINGS)
	budget = TimeBudget(settings.time_budget_seconds)
	batch_size = settings.delete_batch_size
	cleanups = {
		"error_logs_deleted": lambda: delete_older_than(
			"Error Log", settings.error_log_retention_days, batch_size, budget
		),
		"activity_logs_deleted": lambda: delete_older_than(
			"Activity Log", settings.activity_log_retention_days, batch_size, budget
		),
		"email_queue_cleared": lambda: cleanup_email_queue(
			settings.email_queue_retention_days, batch_size, budget
		),
		"versions_cleaned": lambda: cleanup_document_versions(
			settings.version_retention_days, settings.versions_to_keep, batch_size, budget
		),
		"failed_jobs_deleted": lambda: delete_closed_failed_jobs(
			settings.failed_job_retention_days, batch_size, budget
		),
	}
	stats = {}
	progress = Progress(len(cleanups), _("Database maintenance"), every=1)
	for done, (key, cleanup) in enumerate(cleanups.items(), start=1):
		try:
			stats[key] = cleanup()
		except Exception:
			frappe.db.rollback()
			stats[key] = None
			frappe.log_error(title=f"Daily Maintenance: {key} failed")
		progress.update(done)
	stats["time_budget_exhausted"] = budget.exhausted
	frappe.logger("myapp.maintenance").info(f"Daily maintenance completed: {stats}")
	return stats


def cutoff_for(days: int):
	return add_days(now_datetime(), -days)


def delete_older_than(doctype: str, days: int, batch_size: int, budget: TimeBudget) -> int:
	# `modified`, as Frappe's own clear_old_logs: every table is indexed on it (not on `creation`),
	# and a log row is not modified after it is written
	return delete_where(doctype, "modified < %(cutoff)s", {"cutoff": cutoff_for(days)}, batch_size, budget)


def delete_closed_failed_jobs(days: int, batch_size: int, budget: TimeBudget) -> int:
	"""Failed Jobs someone resolved or ignored (or whose retry succeeded) longer than `days` ago;
	Open ones stay however old, they still need someone."""
	return delete_where(
		"Failed Job",
		"modified < %(cutoff)s and status in %(statuses)s",
		{"cutoff": cutoff_for(days), "statuses": ("Resolved", "Ignored")},
		batch_size,
		budget,
	)


def cleanup_email_queue(days: int, batch_size: int, budget: TimeBudget) -> int:
	"""Sent, Expired and Error emails older than `days`, with their Email Queue Recipient rows."""
	filters = {"status": ("in", ("Sent", "Expired", "Error")), "creation": ("<", cutoff_for(days))}

	def select_names(limit):
		return frappe.get_all("Email Queue", filters=filters, pluck="name", limit=limit, order_by=None)

	return delete_selected(
		"Email Queue", select_names, batch_size, budget, child_doctypes=("Email Queue Recipient",)
	)


def cleanup_document_versions(days: int, keep_latest: int, batch_size: int, budget: TimeBudget) -> int:
	"""Versions older than `days` that are not among the `keep_latest` newest of their document."""
	cutoff = cutoff_for(days)

	def select_names(limit):
		# rank only the versions of documents that have one older than the cutoff, not all of tabVersion
		return frappe.db.sql(
			"""select name from (
				select version.name, version.creation, row_number() over (
					partition by version.ref_doctype, version.docname
					order by version.creation desc, version.name desc
				) as position
				from `tabVersion` version
				join (
					select distinct ref_doctype, docname from `tabVersion` where creation < %(cutoff)s
				) old on old.ref_doctype = version.ref_doctype and old.docname = version.docname
			) ranked
			where ranked.position > %(keep)s and ranked.creation < %(cutoff)s
			limit %(limit)s""",
			{"keep": keep_latest, "cutoff": cutoff, "limit": limit},
			pluck=True,
		)

	return delete_selected("Version", select_names, batch_size, budget)
