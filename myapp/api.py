"""Every whitelisted endpoint of myapp"""

import frappe
from frappe import _


@frappe.whitelist(methods=["POST"])
def retry_order_sync(name: str) -> dict:
	"""The Sales Order "Retry Sync" button: put one Failed / Error / Retry Pending order back to Pending."""
	from myapp.sync import RETRYABLE_BY_USER, enqueue_push_now, mark_for_retry

	doc = frappe.get_doc("Sales Order", name)
	doc.check_permission("write")
	if doc.docstatus != 1 or doc.custom_sync_status not in RETRYABLE_BY_USER:
		frappe.throw(
			_("Only a submitted Sales Order whose sync is {0} can be retried").format(
				", ".join(_(status) for status in RETRYABLE_BY_USER)
			)
		)
	mark_for_retry([doc.name])
	enqueue_push_now()
	return {"message": _("Sales Order {0} will be sent to the external system shortly").format(doc.name)}


@frappe.whitelist(methods=["POST"])
def retry_failed_syncs() -> dict:
	"""The Sync Settings "Retry all failed" button: every Failed or Error order back to Pending."""
	from myapp.sync import enqueue_push_now, failed_orders, mark_for_retry

	frappe.only_for("System Manager")
	count = mark_for_retry(failed_orders())
	if count:
		enqueue_push_now()
	return {"count": count, "message": _("{0} Sales Order(s) put back to Pending").format(count)}


@frappe.whitelist(methods=["POST"])
def start_invoice_processing(batch_size: int | None = None) -> dict:
	"""Workflow 4: process every unprocessed draft Sales Invoice in background batches (one run at a
	time; resumes the active run when its jobs are gone). Returns the Invoice Processing Run."""
	from myapp.invoices import start_run

	frappe.only_for(("System Manager", "Accounts Manager"), message=True)
	return start_run(batch_size)


# User-triggered jobs: exports (workflow 3), reports (workflow 6), CSV imports (example 3, workflow 7).
# Each checks permission and input, then claims its job id atomically (myapp.utils.jobs.enqueue_once):
# an identical request is refused while the first one is queued or running.


def _request_digest(*values) -> str:
	import hashlib
	import json

	return hashlib.md5(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()[:12]


@frappe.whitelist(methods=["POST"])
def start_customer_export(filters: str | dict | list | None = None) -> dict:
	"""The Customer form's "Export Customers of Group ..." button: the customers (of the form's customer
	group, in `filters`) that the user may read, as a private CSV file."""
	return start_export("Customer", filters=filters)


@frappe.whitelist(methods=["POST"])
def start_export(
	doctype: str, filters: str | dict | list | None = None, fields: str | list | None = None
) -> dict:
	"""Export the records of any DocType the user may read. `filters`: JSON object or list of
	[field, operator, value]; `fields`: JSON list of field names (default: every readable field)."""
	from myapp.export import EXPORT_QUEUE, EXPORT_TIMEOUT, validate_export_request
	from myapp.utils.jobs import enqueue_once

	filters, fields = validate_export_request(doctype, filters, fields)
	user = frappe.session.user
	job_id = f"export::{doctype}::{user}::{_request_digest(filters, fields)}"
	message = _("This export is already queued or running. You will be notified when it is ready.")
	if doctype == "Customer":
		enqueue_once(
			"myapp.tasks.export_customers", job_id, queue=EXPORT_QUEUE, timeout=EXPORT_TIMEOUT,
			message=message, user=user, filters=filters, fields=fields,
		)  # fmt: skip
	else:
		enqueue_once(
			"myapp.export.export_doctype", job_id, queue=EXPORT_QUEUE, timeout=EXPORT_TIMEOUT,
			message=message, doctype=doctype, user=user, filters=filters, fields=fields,
		)  # fmt: skip
	return {"job_id": job_id, "message": _("Export started. You will be notified when it is ready.")}


@frappe.whitelist(methods=["POST"])
def generate_report(report_type: str, params: str | dict | None = None) -> dict:
	"""Generate a registered report (myapp.reports.REPORT_TYPES) in the background, with progress."""
	from myapp.reports import REPORT_QUEUE, REPORT_TIMEOUT, validate_report_request
	from myapp.utils.jobs import enqueue_once

	_report, params = validate_report_request(report_type, params)
	user = frappe.session.user
	job_id = f"report::{report_type}::{user}::{_request_digest(params)}"
	enqueue_once(
		"myapp.tasks.generate_report_with_progress",
		job_id,
		queue=REPORT_QUEUE,
		timeout=REPORT_TIMEOUT,
		message=_("This report is already being generated. Please wait."),
		report_type=report_type,
		user=user,
		params=params,
	)
	return {"job_id": job_id, "message": _("Report generation started. You will see its progress.")}


@frappe.whitelist(methods=["POST"])
def start_csv_import(file_url: str, doctype: str, update_existing: bool = False) -> dict:
	"""Import an uploaded CSV file into `doctype`: creates a CSV Import Log and queues it."""
	from frappe.utils import cint, sbool

	from myapp.importer import create_import_log
	from myapp.importer import start_import as queue_import

	frappe.db.savepoint("start_csv_import")
	try:
		log = create_import_log(file_url, doctype, cint(sbool(update_existing)))
		result = queue_import(log.name)
	except Exception:
		# a refused or invalid request leaves no CSV Import Log behind
		frappe.db.rollback(save_point="start_csv_import")
		raise
	return {**result, "message": _("Import started. Follow it in CSV Import Log {0}.").format(log.name)}


@frappe.whitelist(methods=["POST"])
def start_import(import_log: str, retry_failed_rows: bool = False) -> dict:
	"""The CSV Import Log's Start Import (also resumes an interrupted import) and Retry Failed Rows."""
	from frappe.utils import cint, sbool

	from myapp.importer import start_import as queue_import

	retry = cint(sbool(retry_failed_rows))
	result = queue_import(import_log, retry_failed_rows=retry)
	message = _("Retrying the failed rows.") if retry else _("Import started.")
	return {**result, "message": message}


@frappe.whitelist(methods=["POST"])
def download_failed_rows(import_log: str) -> dict:
	"""The CSV Import Log's Download Failed Rows: a private CSV of those rows with an Error column."""
	from myapp.importer import failed_rows_file

	file = failed_rows_file(import_log)
	return {"file_url": file.file_url, "file_name": file.file_name}


@frappe.whitelist(methods=["GET", "POST"])
def failed_scheduled_jobs_card(filters: str | dict | None = None) -> dict:
	"""The "Background Jobs" workspace's Custom number card (the Desk posts the card's `filters`;
	this card has none). A read: it checks read permission on Scheduled Job Log."""
	from myapp.workspace import failed_scheduled_jobs_card as count_failed_jobs

	return count_failed_jobs()


@frappe.whitelist(methods=["GET", "POST"])
def failed_jobs_by_method_chart() -> dict:
	"""The "Failed Jobs by Method" chart of the workspace (its Dashboard Chart Source names this
	method; the Desk's chart arguments are ignored): the last 7 days, for readers of Failed Job."""
	from myapp.job_center import failures_by_method

	return failures_by_method()


# Failed jobs (myapp.job_center): System Managers retry them, one from the form or many from the list.


@frappe.whitelist(methods=["GET", "POST"])
def sales_orders_awaiting_sync_card(filters: str | dict | None = None) -> dict:
	"""The workspace's Custom number card of Sales Orders whose sync needs attention (ERPNext
	sites): the orders the user may read; none for a System Manager who may not read Sales Orders
	(Frappe shows them every card), refused to anyone else who may not."""
	from myapp.workspace import sales_orders_awaiting_sync_card as count_orders

	return count_orders()


@frappe.whitelist(methods=["POST"])
def retry_failed_job(name: str, arguments: str | dict | None = None) -> dict:
	"""The Failed Job's Retry: the same method as the same user on the same queue, under a new
	job id; `arguments` (a JSON object) replaces the job's arguments for this retry and is recorded."""
	from myapp.job_center import retry_failed_job as retry

	frappe.only_for("System Manager")
	result = retry(name, arguments)
	if result["status"] == "Retried":
		message = _("Resumed through the job's own Start Import")
	else:
		message = _("Retry queued as {0}").format(result["job_id"])
	return {**result, "message": message}


@frappe.whitelist(methods=["POST"])
def retry_failed_jobs(names: str | list) -> dict:
	"""Bulk Retry from the Failed Job list: each retried on its own; the ones refused are listed."""
	from myapp.job_center import retry_failed_job as retry
	from myapp.utils.arguments import parse_json_argument
	from myapp.utils.savepoint import isolated

	frappe.only_for("System Manager")
	names = parse_json_argument(names, _("Names"))
	if not isinstance(names, list):
		frappe.throw(_("Names must be a list of Failed Job names"), frappe.ValidationError)
	retried, errors = [], []
	for name in names:
		with isolated("myapp_retry_failed_job") as unit:
			retry(str(name))
		if unit.failed:
			errors.append({"name": name, "error": str(unit.error)})
		else:
			retried.append(name)
	message = _("{0} retried").format(len(retried))
	if errors:
		message += ", " + _("{0} refused (see the response)").format(len(errors))
	return {"retried": retried, "errors": errors, "message": message}
