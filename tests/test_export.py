"""Workflow 3: the streaming, permission-aware export (myapp.export) and its endpoint."""

import json

import frappe
import pytest
from conftest import call_endpoint, make_user
from user_jobs_helpers import (
	customer_masters,
	files_on_disk,
	make_customer,
	messages,
	read_csv_file,
	user_permission,
)

from myapp.export import export_doctype
from myapp.utils.csvfile import UTF8_BOM, neutralise

# ERPNext DocTypes throughout: skipped on a bench site without ERPNext (see conftest.erpnext)
pytestmark = pytest.mark.usefixtures("erpnext")


@pytest.fixture(autouse=True)
def masters(erpnext):
	customer_masters()


def test_export_as_a_restricted_user_contains_only_the_rows_they_may_read(drain, realtime_events):
	for i in range(3):
		make_customer(f"Retail {i}", "Retail")
	for i in range(2):
		make_customer(f"Wholesale {i}", "Wholesale")
	user = make_user("retail.rep@myapp.test", ["Sales Master Manager"])
	user_permission(user, "Customer Group", "Retail")
	frappe.db.commit()

	# the Customer button sends the form's group; here no filter at all: permissions alone restrict
	response = call_endpoint("myapp.api.start_customer_export", user=user, filters=json.dumps({}))
	assert response["job_id"].startswith("export::Customer::retail.rep@myapp.test::")
	drain()

	files = frappe.get_all("File", filters={"is_folder": 0}, fields=["file_url", "owner", "is_private"])
	assert len(files) == 1
	assert (files[0].owner, files[0].is_private) == (user, 1)
	_raw, rows = read_csv_file(files[0].file_url)
	header, data = rows[0], rows[1:]
	group = header.index("customer_group")
	assert sorted(row[header.index("name")] for row in data) == ["Retail 0", "Retail 1", "Retail 2"]
	assert {row[group] for row in data} == {"Retail"}

	done = messages(realtime_events, user, "green")
	assert len(done) == 1
	assert files[0].file_url in done[0]["message"] and "3" in done[0]["message"]


def test_the_customer_buttons_filter_and_the_administrators_view(drain, realtime_events):
	for i in range(4):
		make_customer(f"Retail {i}", "Retail")
	make_customer("Big Buyer", "Wholesale")
	frappe.db.commit()

	call_endpoint("myapp.api.start_customer_export", filters=json.dumps({"customer_group": "Wholesale"}))
	drain()
	file_url = frappe.get_all("File", filters={"is_folder": 0}, pluck="file_url")[0]
	_raw, rows = read_csv_file(file_url)
	assert [row[0] for row in rows[1:]] == ["Big Buyer"]


def test_formula_cells_are_neutralised_and_the_file_opens_in_excel():
	dangerous = ['=HYPERLINK("http://x")', "+41 22", "-2+3", "@SUM(A1)", "\tcmd", "Plain, with comma"]
	for i, text in enumerate(dangerous):
		make_customer(f"C{i}", "Retail", customer_details=text, tax_id=text[:20])
	frappe.db.commit()

	result = export_doctype("Customer", fields=json.dumps(["name", "customer_details", "is_frozen"]))
	assert result["records"] == len(dangerous)
	raw, rows = read_csv_file(result["file_url"])
	assert raw.startswith(UTF8_BOM.encode())
	assert rows[0] == ["name", "customer_details", "is_frozen"]
	details = {row[0]: row[1] for row in rows[1:]}
	assert details["C0"] == '\'=HYPERLINK("http://x")'
	assert details["C1"] == "'+41 22"
	assert details["C2"] == "'-2+3"
	assert details["C3"] == "'@SUM(A1)"
	assert details["C4"] == "'\tcmd"
	assert details["C5"] == "Plain, with comma"
	# numbers are never formulas: a Check stays 0, a negative number stays a number
	assert {row[2] for row in rows[1:]} == {"0"}
	assert neutralise(-5) == -5 and neutralise("-5") == "'-5" and neutralise(None) == ""


def test_nothing_matched_is_orange_and_leaves_no_file(drain, realtime_events):
	make_customer("Someone", "Retail")
	frappe.db.commit()
	before = files_on_disk()
	call_endpoint("myapp.api.start_customer_export", filters=json.dumps({"customer_group": "Commercial"}))
	drain()
	assert frappe.get_all("File", filters={"is_folder": 0}) == []
	assert files_on_disk() == before
	orange = messages(realtime_events, "Administrator", "orange")
	assert len(orange) == 1 and "No Customer records" in orange[0]["message"]


def test_a_failed_export_is_red_logged_and_leaves_no_file(realtime_events):
	make_customer("Someone", "Retail")
	frappe.db.commit()
	before = files_on_disk()
	# a field the DocType does not have: the job fails after it started writing nothing
	result = export_doctype("Customer", fields=["name", "no_such_field"])
	assert result["failed"]
	assert files_on_disk() == before
	logs = frappe.get_all("Error Log", fields=["method", "reference_doctype"])
	assert [(log.method, log.reference_doctype) for log in logs] == [
		("Export of Customer failed", "Customer")
	]
	red = messages(realtime_events, "Administrator", "red")
	assert len(red) == 1 and "Error Log" in red[0]["message"]


def test_any_doctype_the_user_can_read(drain):
	user = make_user("todo.manager@myapp.test", ["System Manager"])
	frappe.get_doc({"doctype": "ToDo", "description": "=cmd|' /C calc'!A0"}).insert()
	frappe.get_doc({"doctype": "ToDo", "description": "plain"}).insert()
	frappe.db.commit()

	call_endpoint("myapp.api.start_export", user=user, doctype="ToDo", filters="[]")
	drain()
	file_url = frappe.get_all("File", filters={"is_folder": 0, "owner": user}, pluck="file_url")[0]
	_raw, rows = read_csv_file(file_url)
	description = rows[0].index("description")
	assert sorted(row[description] for row in rows[1:]) == ["'=cmd|' /C calc'!A0", "plain"]


def test_a_user_who_cannot_read_the_doctype_is_refused():
	user = make_user("no.sales@myapp.test", [])
	frappe.db.commit()
	with pytest.raises(frappe.PermissionError):
		call_endpoint("myapp.api.start_customer_export", user=user)
	with pytest.raises(frappe.PermissionError):
		call_endpoint("myapp.api.start_export", user=user, doctype="Sales Invoice")
	# and the job itself, run as that user, exports nothing (get_list refuses)
	frappe.set_user(user)
	assert export_doctype("Customer")["failed"]


def test_reading_is_not_enough_the_export_right_is_needed_as_in_v15(drain):
	"""v15 gates exports with the export right (frappe.permissions.can_export): a Sales User reads
	customers but may not export them; a Sales Master Manager may (ERPNext 15's Customer perms)."""
	make_customer("Retail 0", "Retail")
	reader = make_user("reader@myapp.test", ["Sales User"])
	exporter = make_user("exporter@myapp.test", ["Sales Master Manager"])
	frappe.db.commit()
	assert frappe.has_permission("Customer", "read", user=reader)
	with pytest.raises(frappe.PermissionError):
		call_endpoint("myapp.api.start_customer_export", user=reader)
	with pytest.raises(frappe.PermissionError):
		call_endpoint("myapp.api.start_export", user=reader, doctype="Customer")
	# the job checks too (a job queued before a role was taken away)
	frappe.set_user(reader)
	assert export_doctype("Customer")["failed"]
	frappe.set_user("Administrator")
	assert call_endpoint("myapp.api.start_export", user=exporter, doctype="Customer")["job_id"]


@pytest.mark.parametrize(
	("kwargs", "error"),
	[
		({"doctype": "No Such DocType"}, frappe.DoesNotExistError),
		({"doctype": "Customer", "filters": "{not json"}, frappe.DataError),
		({"doctype": "Customer", "filters": json.dumps({"no_such_field": 1})}, frappe.DataError),
		({"doctype": "Customer", "filters": json.dumps([["customer_group", "="]])}, frappe.DataError),
		({"doctype": "Customer", "filters": json.dumps("x")}, frappe.DataError),
		({"doctype": "Customer", "fields": json.dumps(["name", "password"])}, frappe.DataError),
	],
)
def test_input_is_validated_before_anything_is_queued(kwargs, error):
	from conftest import pending_jobs

	with pytest.raises(error):
		call_endpoint("myapp.api.start_export", **kwargs)
	assert pending_jobs() == 0


def test_export_streams_rows_in_pages_of_the_cursor_not_one_list(monkeypatch):
	"""The rows come from an unbuffered cursor on the query get_list builds (with permissions)."""
	import myapp.export

	make_customer("A", "Retail")
	make_customer("B", "Wholesale")
	frappe.db.commit()
	queries = []
	original_sql = frappe.db.sql

	def spy(query, *args, **kwargs):
		if kwargs.get("as_iterator"):
			queries.append(query)
		return original_sql(query, *args, **kwargs)

	monkeypatch.setattr(frappe.db, "sql", spy)
	rows = list(myapp.export.iterate_readable_rows("Customer", ["name"], {"customer_group": "Retail"}))
	assert rows == [["A"]]
	assert len(queries) == 1 and "Retail" in queries[0]
