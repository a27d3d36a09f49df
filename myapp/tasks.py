"""Scheduled and background tasks (the seeds' workflows). Hooks and `bench execute` call these by name."""

import frappe
from frappe.utils import add_days, now_datetime

# User-triggered jobs, importable by their seed paths: workflows 3 (export), 6 (report), 7 (import callbacks).
from myapp.export import export_customers  # noqa: F401

# Scheduled reports, by their seed paths: workflows 2 (weekday summary) and 8 (scheduler health).
from myapp.health import scheduler_health_check  # noqa: F401
from myapp.importer import on_import_failure, on_import_success  # noqa: F401
from myapp.invoices import process_invoices_batch  # noqa: F401  (workflow 4's chained batches)
from myapp.reports import generate_report_with_progress  # noqa: F401
from myapp.summary import weekday_summary_email  # noqa: F401
from myapp.sync import sync_to_external_system  # noqa: F401  (workflow 5's hourly sweep, by its seed path)
from myapp.utils.savepoint import isolated

MAINTENANCE_SETTINGS = "Maintenance Settings"
FILE_BATCH_SIZE = 100


def daily_cleanup() -> dict:
	"""Workflow 1: delete private Files attached to no document and older than the retention days.

	Through `frappe.delete_doc`, so File's on_trash removes the file from disk. At most
	`max_files_per_run` files per run, committed per batch; a file that cannot be deleted is
	logged, rolled back alone and skipped, so one bad file never stops or loops the run.
	"""
	settings = frappe.get_single(MAINTENANCE_SETTINGS)
	cutoff = add_days(now_datetime(), -settings.file_retention_days)
	deleted, failed = 0, []
	while deleted + len(failed) < settings.max_files_per_run:
		limit = min(FILE_BATCH_SIZE, settings.max_files_per_run - deleted - len(failed))
		names = old_unattached_private_files(cutoff, limit, exclude=failed)
		if not names:
			break
		for name in names:
			if delete_file(name):
				deleted += 1
			else:
				failed.append(name)
		frappe.db.commit()
	frappe.logger("myapp.tasks").info(f"Daily cleanup: deleted {deleted} files, {len(failed)} failed")
	return {"deleted": deleted, "failed": len(failed)}


def old_unattached_private_files(cutoff, limit: int, exclude: list[str]) -> list[str]:
	filters = [
		["is_private", "=", 1],
		["is_folder", "=", 0],
		["attached_to_doctype", "is", "not set"],
		["creation", "<", cutoff],
	]
	if exclude:
		filters.append(["name", "not in", exclude])
	return frappe.get_all("File", filters=filters, pluck="name", order_by="creation asc", limit=limit)


def delete_file(name: str) -> bool:
	with isolated(
		"daily_cleanup_file",
		title=f"Daily cleanup: could not delete File {name}",
		reference_doctype="File",
		reference_name=name,
	) as unit:
		# permanently: a Deleted Document copy per file would be kept for a file already gone from disk
		frappe.delete_doc("File", name, ignore_permissions=True, delete_permanently=True)
	return not unit.failed
