"""The Customer form's export (Actions > Export Customers of Group G), as a Sales User restricted
to one customer group by a User Permission: the queued alert, the realtime message with its
download link, and a CSV that holds only what the user may read."""

import frappe
import pytest
from conftest import make_user
from user_jobs_helpers import customer_masters, make_customer, user_permission

from .conftest import csv_rows, set_password

pytestmark = pytest.mark.usefixtures("erpnext")


def test_export_customers_of_the_forms_group_as_a_restricted_user(desk):
	customer_masters()
	retail = [make_customer(f"UI Retail {i}", "Retail") for i in range(3)]
	for i in range(2):
		make_customer(f"UI Wholesale {i}", "Wholesale")
	# ERPNext 15 gives Customer's export right to Sales Master Manager (not to Sales User)
	user = make_user("retail.rep@myapp.test", ["Sales User", "Sales Master Manager"])
	user_permission(user, "Customer Group", "Retail")
	set_password(user)

	desk.login(user)
	desk.open_form("Customer", retail[0])
	desk.click_button("Export Customers of Group Retail", group="Actions")
	desk.alert("Export started")

	dialog = desk.message_dialog("records exported")
	link = dialog.locator("a[href*='/files/']").first
	assert "3" in dialog.inner_text()
	desk.shot("customer-export")
	body = desk.download(link.get_attribute("href"))

	rows = csv_rows(body)
	header, data = rows[0], rows[1:]
	assert sorted(row[header.index("name")] for row in data) == sorted(retail)
	assert {row[header.index("customer_group")] for row in data} == {"Retail"}
	assert frappe.db.get_value("File", {"file_url": link.get_attribute("href")}, "owner") == user
	desk.assert_clean()
