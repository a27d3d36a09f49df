"""The list views' menu items (myapp/public/js/list_menu.js): "Export in Background (CSV)" exports
the records matching the list's filters; the Customer list's "Customer List Report (CSV)"."""

import frappe
import pytest
from conftest import make_user

from .conftest import csv_rows, set_password


def make_todo(description, priority):
	return (
		frappe.get_doc(
			{"doctype": "ToDo", "description": description, "priority": priority, "status": "Open"}
		)
		.insert(ignore_permissions=True)
		.name
	)


def test_export_in_background_exports_the_filtered_rows(desk):
	high = [make_todo(f"UI urgent task {i}", "High") for i in range(3)]
	for i in range(2):
		make_todo(f"UI someday task {i}", "Low")
	user = set_password(make_user("list.exporter@myapp.test", ["System Manager"]))

	page = desk.login(user)
	desk.goto("/app/todo?priority=High")
	page.wait_for_function(
		"() => window.cur_list && cur_list.doctype === 'ToDo' && cur_list.data.length === 3"
		" && JSON.stringify(cur_list.get_filters_for_args()).includes('High')"
	)
	desk.menu_item("Export in Background (CSV)")
	desk.alert("Export started")
	dialog = desk.message_dialog("ToDo records exported")
	assert dialog.inner_text().startswith("3 ToDo records exported")
	desk.shot("list-menu-export")
	rows = csv_rows(desk.download(dialog.locator("a[href*='/files/']").first.get_attribute("href")))
	header, data = rows[0], rows[1:]
	assert sorted(row[header.index("name")] for row in data) == sorted(high)
	assert {row[header.index("priority")] for row in data} == {"High"}
	desk.assert_clean()


@pytest.mark.usefixtures("erpnext")
def test_customer_list_report(desk):
	from user_jobs_helpers import customer_masters, make_customer

	customer_masters()
	retail = [make_customer(f"UI Report Retail {i}", "Retail") for i in range(2)]
	make_customer("UI Report Wholesale", "Wholesale")
	user = set_password(make_user("report.reader@myapp.test", ["Sales User", "Sales Master Manager"]))

	page = desk.login(user)
	desk.goto("/app/customer?customer_group=Retail")
	page.wait_for_function(
		"() => window.cur_list && cur_list.doctype === 'Customer' && cur_list.data.length === 2"
	)
	desk.menu_item("Customer List Report (CSV)")
	desk.alert("Report generation started")
	dialog = desk.message_dialog("report is ready")
	rows = csv_rows(desk.download(dialog.locator("a[href*='/files/']").first.get_attribute("href")))
	assert rows[0][:2] == ["Customer", "Customer Name"]
	assert sorted(row[0] for row in rows[1:]) == sorted(retail)
	desk.assert_clean()
