"""Workflow 6: reports generated in the background, with progress, a private file and an email.

A report type is registered once in REPORT_TYPES with how to count its records, how to fetch
them (as the user who asked: `frappe.get_list` applies their permissions) and how to turn a
record into a row. The job streams the records into a private CSV file while it publishes
progress every 10% and on the last row.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import frappe
from frappe import _
from frappe.utils import flt, getdate

from myapp.export import iterate_readable_rows, parse_filters
from myapp.utils.arguments import parse_json_argument
from myapp.utils.csvfile import PrivateCSVFile
from myapp.utils.notify import notify_user
from myapp.utils.progress import Progress

REPORT_QUEUE = "long"
REPORT_TIMEOUT = 60 * 60


@dataclass(frozen=True)
class ReportType:
	"""`filters(params)` -> get_list filters; `row(record)` -> CSV row (no database access: the
	records stream from an unbuffered cursor)."""

	title: str
	doctype: str
	fields: tuple[str, ...]
	columns: tuple[str, ...]
	filters: Callable[[dict], dict | list]
	row: Callable[[list], list] = field(default=list)

	def count(self, params: dict) -> int:
		result = frappe.get_list(
			self.doctype, filters=self.filters(params), fields=["count(name) as total"], order_by=""
		)
		return int(result[0].total if result else 0)

	def records(self, params: dict):
		return iterate_readable_rows(self.doctype, list(self.fields), self.filters(params))


def customer_list_filters(params: dict) -> dict | list:
	filters = parse_filters("Customer", params.get("filters"))
	if not params.get("include_disabled"):
		filters = _and(filters, ["disabled", "=", 0])
	return filters


def sales_invoice_register_filters(params: dict) -> list:
	filters = _and(parse_filters("Sales Invoice", params.get("filters")), ["docstatus", "=", 1])
	if params.get("from_date"):
		filters = _and(filters, ["posting_date", ">=", getdate(params["from_date"])])
	if params.get("to_date"):
		filters = _and(filters, ["posting_date", "<=", getdate(params["to_date"])])
	if params.get("customer"):
		filters = _and(filters, ["customer", "=", params["customer"]])
	return filters


def _and(filters: dict | list, condition: list) -> list:
	"""Filters given as a dict or list, plus one more [field, operator, value] condition."""
	if isinstance(filters, dict):
		filters = [
			[key, *(value if isinstance(value, list | tuple) else ["=", value])]
			for key, value in filters.items()
		]
	return [*filters, condition]


def invoice_register_row(record: list) -> list:
	name, posting_date, customer, customer_name, grand_total, outstanding, status = record
	paid = flt(grand_total) - flt(outstanding)
	return [name, posting_date, customer, customer_name, grand_total, outstanding, paid, status]


REPORT_TYPES: dict[str, ReportType] = {
	"customer_list": ReportType(
		title="Customer List",
		doctype="Customer",
		fields=("name", "customer_name", "customer_type", "customer_group", "territory", "disabled"),
		columns=("Customer", "Customer Name", "Type", "Customer Group", "Territory", "Disabled"),
		filters=customer_list_filters,
	),
	"sales_invoice_register": ReportType(
		title="Sales Invoice Register",
		doctype="Sales Invoice",
		fields=(
			"name",
			"posting_date",
			"customer",
			"customer_name",
			"grand_total",
			"outstanding_amount",
			"status",
		),
		columns=(
			"Invoice",
			"Posting Date",
			"Customer",
			"Customer Name",
			"Grand Total",
			"Outstanding",
			"Paid",
			"Status",
		),  # fmt: skip
		filters=sales_invoice_register_filters,
		row=invoice_register_row,
	),
}


def get_report_type(report_type: str) -> ReportType:
	if report_type not in REPORT_TYPES:
		frappe.throw(
			_("Unknown report type {0}. Available: {1}").format(
				frappe.bold(report_type), ", ".join(sorted(REPORT_TYPES))
			),
			frappe.DoesNotExistError,
		)
	return REPORT_TYPES[report_type]


def parse_params(params) -> dict:
	if params in (None, "", "null"):
		return {}
	params = parse_json_argument(params, "Report parameters")
	if not isinstance(params, dict):
		frappe.throw(_("Report parameters must be a JSON object"), frappe.DataError)
	return params


def validate_report_request(report_type: str, params=None) -> tuple[ReportType, dict]:
	"""The report and its parameters, with the filters checked (a clear error otherwise)."""
	from frappe.permissions import can_export

	report = get_report_type(report_type)
	frappe.has_permission(report.doctype, "read", throw=True)
	if not can_export(report.doctype):
		# a report sums up every record, so export "if owner" is not enough
		frappe.throw(_("You are not allowed to export {0}").format(_(report.doctype)), frappe.PermissionError)
	params = parse_params(params)
	report.filters(params)
	return report, params


def generate_report_with_progress(report_type: str, user: str | None = None, params=None) -> dict:
	"""Workflow 6's job (`myapp.tasks.generate_report_with_progress`). Returns {"file_url", "records"}."""
	if user and user != frappe.session.user:
		frappe.set_user(user)
	user = frappe.session.user
	report = None
	try:
		report, params = validate_report_request(report_type, params)
		title = _(report.title)
		notify_user(user, _("Generating the {0} report...").format(title), "blue")
		total = report.count(params)
		if not total:
			notify_user(user, _("No data found for the {0} report.").format(title), "orange")
			return {"file_url": None, "records": 0}

		progress = Progress(total, _("Generating {0}").format(title))
		with PrivateCSVFile(f"{report.title}.csv") as out:
			out.writerow([_(column) for column in report.columns])
			done = 0
			for record in report.records(params):
				out.writerow(report.row(record))
				done += 1
				progress.update(done)
			if done < total:
				# fewer rows than counted (deleted meanwhile): the bar still ends at 100
				progress.total = done
				progress.update(done)
			file = out.save()
		frappe.db.commit()
	except Exception:
		frappe.db.rollback()
		frappe.log_error(title=_("Report generation failed: {0}").format(report_type))
		frappe.db.commit()
		notify_user(user, _("Report generation failed. Details are in the Error Log."), "red")
		return {"file_url": None, "records": 0, "failed": True}

	link = f"<a href='{file.file_url}' target='_blank'>{_('Download Report')}</a>"
	notify_user(user, _("Your {0} report is ready ({1} rows). {2}").format(title, done, link), "green")
	send_report_email(user, report, file, done)
	frappe.db.commit()
	return {"file_url": file.file_url, "records": done}


def send_report_email(user: str, report: ReportType, file, records: int):
	from myapp.utils.notify import email_addresses

	recipients = email_addresses([user])
	if not recipients:
		return
	frappe.sendmail(
		recipients=recipients,
		subject=_("Your {0} report is ready").format(_(report.title)),
		template="report_ready",
		args={
			"report_title": _(report.title),
			"records": records,
			"file_url": frappe.utils.get_url(file.file_url),
		},
		reference_doctype="File",
		reference_name=file.name,
	)
