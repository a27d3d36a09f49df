"""Workflow 3: export any DocType the user may read to a private CSV file, in the background.

The job runs as the user who asked for it, and the rows come from `frappe.get_list`, which
adds that user's role, `if_owner` and User Permission conditions: an export never contains a
record the user could not open. The permission-filtered query is streamed through an
unbuffered cursor straight into the file, so memory stays flat at any table size.
"""

import frappe
from frappe import _
from frappe.model import data_fieldtypes

from myapp.utils.arguments import parse_json_argument
from myapp.utils.csvfile import PrivateCSVFile
from myapp.utils.notify import notify_user
from myapp.utils.permissions import permlevels

EXPORT_QUEUE = "long"
EXPORT_TIMEOUT = 30 * 60
# Field types whose value is not something to put in a spreadsheet.
NOT_EXPORTED_FIELDTYPES = ("Password", "Signature", "Geolocation")


def exportable_fields(doctype: str, user: str | None = None) -> list[str]:
	"""`name` and every value field of `doctype` the user may read, in form order."""
	# level 0 whenever get_list lets the user in (a User Permission or a share, say)
	levels = {0} | permlevels(doctype, "read", user)
	fields = ["name"]
	for df in frappe.get_meta(doctype).fields:
		if (
			df.fieldtype in data_fieldtypes
			and df.fieldtype not in NOT_EXPORTED_FIELDTYPES
			and not df.get("is_virtual")
			and (df.get("permlevel") or 0) in levels
			and df.fieldname not in fields
		):
			fields.append(df.fieldname)
	return fields


def check_exportable_doctype(doctype: str):
	if not isinstance(doctype, str) or not frappe.db.exists("DocType", doctype):
		frappe.throw(_("DocType {0} does not exist").format(frappe.bold(doctype)), frappe.DoesNotExistError)
	meta = frappe.get_meta(doctype)
	if meta.issingle or meta.istable:
		frappe.throw(_("{0} cannot be exported: it has no list of records").format(_(doctype)))


def export_limited_to_own_records(doctype: str) -> bool:
	"""v15's rule for exports (`frappe.permissions.can_export`, as Report View applies it): the
	export right on the DocType (System Managers have it everywhere), or export "if owner", which
	limits the export to the records the user owns (True). Throws when the user may export none."""
	from frappe.permissions import can_export

	if can_export(doctype):
		return False
	if can_export(doctype, is_owner=True):
		return True
	frappe.throw(_("You are not allowed to export {0}").format(_(doctype)), frappe.PermissionError)


def validate_export_request(doctype: str, filters=None, fields=None) -> tuple[dict | list, list[str]]:
	"""Parsed and checked filters and fields (a clear error for anything unknown), after the
	user's read and export rights; limited to the user's own records where export is "if owner"."""
	check_exportable_doctype(doctype)
	frappe.has_permission(doctype, "read", throw=True)
	own_records_only = export_limited_to_own_records(doctype)
	filters = parse_filters(doctype, filters)
	if own_records_only:
		filters = [*filter_list(filters), ["owner", "=", frappe.session.user]]

	readable = exportable_fields(doctype)
	if fields:
		fields = parse_json_argument(fields, "Fields")
		if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
			frappe.throw(_("Fields must be a list of field names"))
		unknown = [f for f in fields if f not in readable]
		if unknown:
			frappe.throw(
				_("{0} has no field you may export named {1}").format(_(doctype), ", ".join(unknown)),
				frappe.DataError,
			)
	return filters, list(fields or readable)


def parse_filters(doctype: str, filters) -> dict | list:
	"""Filters from JSON (a dict or a list of [field, operator, value]), fields checked against the meta."""
	if filters in (None, "", "null"):
		return {}
	filters = parse_json_argument(filters, "Filters")
	if isinstance(filters, dict):
		fieldnames = list(filters)
	elif isinstance(filters, list):
		fieldnames = []
		for condition in filters:
			if not isinstance(condition, list | tuple) or len(condition) not in (3, 4):
				frappe.throw(_("Each filter must be [field, operator, value]"), frappe.DataError)
			if len(condition) == 4 and condition[0] != doctype:
				frappe.throw(_("Filters may only use fields of {0}").format(_(doctype)), frappe.DataError)
			fieldnames.append(condition[-3])
	else:
		frappe.throw(_("Filters must be a JSON object or list"), frappe.DataError)

	meta = frappe.get_meta(doctype)
	standard = ("name", "owner", "creation", "modified", "modified_by", "docstatus", "idx")
	unknown = [
		f for f in fieldnames if not isinstance(f, str) or (f not in standard and not meta.has_field(f))
	]
	if unknown:
		frappe.throw(
			_("{0} has no field {1}").format(_(doctype), ", ".join(str(f) for f in unknown)), frappe.DataError
		)
	return filters


def filter_list(filters: dict | list) -> list:
	"""Filters as a list of [field, operator, value]: a dict's values are `value` or `[operator, value]`."""
	if not isinstance(filters, dict):
		return list(filters)
	return [
		[field, *value] if isinstance(value, list | tuple) else [field, "=", value]
		for field, value in filters.items()
	]


def iterate_readable_rows(doctype: str, fields: list[str], filters=None, order_by="name asc"):
	"""Rows (lists) of `doctype` that the session user may read, streamed from the database.

	`frappe.get_list(run=False)` builds the same permission-filtered query get_list would run;
	an unbuffered cursor then streams it. While iterating, run no other query on frappe.db.
	"""
	query = frappe.get_list(doctype, fields=fields, filters=filters, order_by=order_by, run=False)
	with frappe.db.unbuffered_cursor():
		yield from frappe.db.sql(query, as_list=True, as_iterator=True)


# Field types whose values are numbers, dates or flags: never a formula, written as they are.
UNQUOTED_FIELDTYPES = frozenset(
	(
		"Check",
		"Currency",
		"Date",
		"Datetime",
		"Duration",
		"Float",
		"Int",
		"Long Int",
		"Percent",
		"Rating",
		"Time",
	)
)
# What `neutralise` looks for, in SQL: a cell starting with one of these is a formula.
FORMULA_FIRST_CHARACTERS = "('=', '+', '-', '@', char(9), char(13))"


def iterate_export_rows(doctype: str, fields: list[str], filters=None):
	"""`iterate_readable_rows` ordered by name, with each text cell made safe for a spreadsheet by
	the database (an apostrophe before a formula, as `neutralise` does): the rows go to the CSV
	writer with no Python work per cell, as fast as a bare cursor."""
	query = frappe.get_list(doctype, fields=fields, filters=filters, order_by="name asc", run=False)
	meta = frappe.get_meta(doctype)
	columns = []
	for field in fields:
		column = f"readable.`{field}`"
		df = meta.get_field(field)
		if df and df.fieldtype in UNQUOTED_FIELDTYPES:
			columns.append(column)
		else:
			columns.append(
				f"case when left({column}, 1) in {FORMULA_FIRST_CHARACTERS} "
				f"then concat(char(39), {column}) else {column} end"
			)
	# the ORDER BY outside too: MariaDB may drop the one of a derived table
	sql = f"select {', '.join(columns)} from ({query}) readable order by readable.`name`"
	with frappe.db.unbuffered_cursor():
		yield from frappe.db.sql(sql, as_list=True, as_iterator=True)


def export_doctype(doctype: str, filters=None, fields=None, user: str | None = None) -> dict:
	"""Export the records of `doctype` matching `filters` that `user` may read; tell them the outcome.

	Returns {"file_url", "records"}. A failure is rolled back, logged and reported to the user
	(red), and does not fail the job a second time.
	"""
	if user and user != frappe.session.user:
		frappe.set_user(user)
	user = frappe.session.user
	try:
		filters, fields = validate_export_request(doctype, filters, fields)
		with PrivateCSVFile(f"{doctype} export.csv") as out:
			out.writerow(fields)
			out.writerows(iterate_export_rows(doctype, fields, filters), safe=True)
			records = out.rows - 1
			if not records:
				notify_user(
					user, _("No {0} records matched the export filters.").format(_(doctype)), "orange"
				)
				return {"file_url": None, "records": 0}
			file = out.save()
		frappe.db.commit()
	except Exception:
		frappe.db.rollback()
		frappe.log_error(title=_("Export of {0} failed").format(doctype), reference_doctype=doctype)
		frappe.db.commit()
		notify_user(user, _("The {0} export failed. Details are in the Error Log.").format(_(doctype)), "red")
		return {"file_url": None, "records": 0, "failed": True}

	notify_user(
		user,
		_("{0} {1} records exported. {2}").format(
			records,
			_(doctype),
			f"<a href='{file.file_url}' target='_blank'>{_('Download CSV')}</a>",
		),
		"green",
		title=_("Export ready"),
	)
	return {"file_url": file.file_url, "records": records}


def export_customers(user: str | None = None, filters=None, fields=None) -> dict:
	"""Workflow 3's entry point (`myapp.tasks.export_customers`): the Customer export."""
	return export_doctype("Customer", filters=filters, fields=fields, user=user)
