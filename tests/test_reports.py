"""Workflow 6: reports with progress (myapp.reports) and the generate_report endpoint."""

import json

import frappe
import pytest
from conftest import call_endpoint, make_user, pending_jobs
from mail_content import html_part
from user_jobs_helpers import customer_masters, ensure, make_customer, messages, read_csv_file

from myapp.reports import REPORT_TYPES, generate_report_with_progress

# ERPNext DocTypes throughout: skipped on a bench site without ERPNext (see conftest.erpnext)
pytestmark = pytest.mark.usefixtures("erpnext")


@pytest.fixture(autouse=True)
def masters(erpnext):
	customer_masters()


def progress_percents(realtime_events, user):
	return [e["message"]["percent"] for e in realtime_events("progress") if e["room"] == f"user:{user}"]


def test_customer_list_publishes_progress_in_order_ending_at_100_then_file_message_and_email(
	drain, realtime_events, emails
):
	user = make_user("reporter@myapp.test", ["Sales User", "Sales Master Manager"])
	for i in range(37):
		make_customer(f"Customer {i:02d}", "Retail")
	make_customer("Gone", "Retail", disabled=1)
	frappe.db.commit()

	response = call_endpoint("myapp.api.generate_report", user=user, report_type="customer_list")
	assert response["job_id"].startswith("report::customer_list::reporter@myapp.test::")
	drain()

	percents = progress_percents(realtime_events, user)
	assert percents == sorted(percents) and len(set(percents)) == len(percents)
	assert percents[-1] == 100
	assert len(percents) >= 10  # every 10% of 37 rows (each 3 rows) and the last

	file = frappe.get_all(
		"File", filters={"is_folder": 0}, fields=["file_url", "owner", "is_private", "name"]
	)
	assert len(file) == 1 and file[0].owner == user and file[0].is_private
	_raw, rows = read_csv_file(file[0].file_url)
	assert rows[0] == list(REPORT_TYPES["customer_list"].columns)
	assert len(rows) == 1 + 37  # disabled customers are left out by default
	assert rows[1][:2] == ["Customer 00", "Customer 00"]

	green = messages(realtime_events, user, "green")
	assert len(green) == 1 and file[0].file_url in green[0]["message"]
	sent = emails(reference_doctype="File", reference_name=file[0].name)
	assert len(sent) == 1 and sent[0].recipients == [user]
	assert file[0].file_url in html_part(sent[0].message)


def test_sales_invoice_register_with_date_range_and_permissions(drain):
	ensure("Currency", "EUR", currency_name="EUR")
	ensure("Country", "France", country_name="France")
	ensure("Company", "Acme", company_name="Acme", abbr="AC", default_currency="EUR", country="France")
	make_customer("Buyer", "Retail")
	for i, (day, docstatus) in enumerate(
		[("2026-01-05", 1), ("2026-01-20", 1), ("2026-02-02", 1), ("2026-01-10", 0)]
	):
		invoice = frappe.get_doc(
			{
				"doctype": "Sales Invoice",
				"name": f"INV-{i}",
				"customer": "Buyer",
				"customer_name": "Buyer",
				"company": "Acme",
				"currency": "EUR",
				"posting_date": day,
				"grand_total": 100 * (i + 1),
				"outstanding_amount": 10,
				"status": "Unpaid",
				"docstatus": docstatus,
			}
		)
		for df in invoice.meta.fields:
			if df.fieldtype in ("Currency", "Float", "Int", "Check") and invoice.get(df.fieldname) is None:
				invoice.set(df.fieldname, 0)
		invoice.db_insert()
	frappe.db.commit()

	# ERPNext 15 gives no role the export right on Sales Invoice: v15 lets a System Manager export
	# it (frappe.permissions.can_export), so an Accounts User who is not one is refused
	clerk = make_user("clerk@myapp.test", ["Accounts User"])
	accountant = make_user("accountant@myapp.test", ["Accounts User", "System Manager"])
	frappe.db.commit()
	with pytest.raises(frappe.PermissionError):
		call_endpoint("myapp.api.generate_report", user=clerk, report_type="sales_invoice_register")
	params = json.dumps({"from_date": "2026-01-01", "to_date": "2026-01-31"})
	call_endpoint(
		"myapp.api.generate_report", user=accountant, report_type="sales_invoice_register", params=params
	)
	drain()
	file_url = frappe.get_all("File", filters={"is_folder": 0}, pluck="file_url")[0]
	_raw, rows = read_csv_file(file_url)
	assert [row[0] for row in rows[1:]] == ["INV-0", "INV-1"]  # submitted, in January
	assert rows[2][4:7] == ["200.0", "10.0", "190.0"]

	# a Stock User may read customers but not invoices
	ensure("Role", "Stock User", role_name="Stock User", desk_access=1)
	seller = make_user("storekeeper@myapp.test", ["Stock User"])
	frappe.db.commit()
	with pytest.raises(frappe.PermissionError):
		call_endpoint("myapp.api.generate_report", user=seller, report_type="sales_invoice_register")


def test_no_data_is_orange_and_failure_is_red_rolled_back_and_logged(realtime_events):
	assert generate_report_with_progress("customer_list") == {"file_url": None, "records": 0}
	assert len(messages(realtime_events, "Administrator", "orange")) == 1

	make_customer("Someone", "Retail")
	frappe.db.commit()
	result = generate_report_with_progress("customer_list", params={"filters": {"no_such_field": 1}})
	assert result["failed"]
	assert frappe.get_all("File", filters={"is_folder": 0}) == []
	assert frappe.get_all("Error Log", pluck="method") == ["Report generation failed: customer_list"]
	assert len(messages(realtime_events, "Administrator", "red")) == 1


@pytest.mark.parametrize(
	("kwargs", "error"),
	[
		({"report_type": "no_such_report"}, frappe.DoesNotExistError),
		({"report_type": "customer_list", "params": "[1, 2]"}, frappe.DataError),
		({"report_type": "customer_list", "params": "{bad"}, frappe.DataError),
		({"report_type": "customer_list", "params": json.dumps({"filters": {"nope": 1}})}, frappe.DataError),
	],
)
def test_report_input_is_validated(kwargs, error):
	with pytest.raises(error):
		call_endpoint("myapp.api.generate_report", **kwargs)
	assert pending_jobs() == 0
