"""The Background Jobs workspace (/app/background-jobs): its number cards show the numbers of
known data, the "Failed Jobs by Method" chart draws one bar per method, every shortcut opens its
list or settings."""

import frappe
import pytest
from conftest import make_user
from frappe.utils import add_to_date, now_datetime

from .conftest import set_password, slug

CARDS = {"Failed Scheduled Jobs 24h": "2", "Imports Running": "1", "Open Failed Jobs": "3"}
# label -> the DocType it opens (a list, or the form of a Single)
SHORTCUTS = {
	"Failed Job": "Failed Job",
	"Scheduled Job Type": "Scheduled Job Type",
	"Scheduled Job Log": "Scheduled Job Log",
	"Background Jobs (RQ)": "RQ Job",
	"Error Log": "Error Log",
	"CSV Import Log": "CSV Import Log",
	"Expiry Rule": "Expiry Rule",
	"Sync Settings": "Sync Settings",
	"Scheduler Health Settings": "Scheduler Health Settings",
	"Maintenance Settings": "Maintenance Settings",
	"Report Settings": "Report Settings",
}


def known_data():
	now = now_datetime()
	job_type = frappe.get_all("Scheduled Job Type", pluck="name", limit=1)[0]
	# two failures in the last 24 hours; one older failure and one success do not count
	for status, hours_ago in (("Failed", 1), ("Failed", 20), ("Failed", 30), ("Complete", 1)):
		log = frappe.get_doc(
			{"doctype": "Scheduled Job Log", "scheduled_job_type": job_type, "status": status}
		)
		log.insert(ignore_permissions=True)
		when = add_to_date(now, hours=-hours_ago)
		frappe.db.sql("update `tabScheduled Job Log` set creation=%s where name=%s", (when, log.name))
	for status in ("Running", "Success"):
		frappe.get_doc(
			{
				"doctype": "CSV Import Log",
				"reference_doctype": "ToDo",
				"status": status,
				"import_file": "/private/files/x.csv",
			}
		).db_insert()
	# open Failed Jobs of two methods (2 + 1), and a resolved one
	for method, status in (
		("myapp.tasks.daily_cleanup", "Open"),
		("myapp.tasks.daily_cleanup", "Open"),
		("myapp.newsletter.send_weekly_digest", "Open"),
		("myapp.expiry.check_expiring_documents", "Resolved"),
	):
		frappe.get_doc(
			{
				"doctype": "Failed Job",
				"method": method,
				"status": status,
				"attempts": 1,
				"first_failed_at": add_to_date(now, hours=-2),
				"last_failed_at": add_to_date(now, hours=-1),
			}
		).db_insert()
	frappe.db.commit()
	if "erpnext" in frappe.get_installed_apps():
		from test_sync import make_order

		# a submitted order whose push failed (and one synced, which does not count)
		failed, synced = make_order(), make_order()
		frappe.db.sql("update `tabSales Order` set custom_sync_status='Failed' where name=%s", failed)
		frappe.db.sql("update `tabSales Order` set custom_sync_status='Synced' where name=%s", synced)
		frappe.db.commit()


def test_background_jobs_workspace(desk):
	known_data()
	erpnext = "erpnext" in frappe.get_installed_apps()
	roles = ["System Manager", "Sales User"] if erpnext else ["System Manager"]
	user = set_password(make_user("jobs.admin@myapp.test", roles))
	page = desk.login(user)
	desk.goto("/app/background-jobs")
	page.locator(".workspace-title, .page-title .title-text", has_text="Background Jobs").first.wait_for()

	cards = dict(CARDS)
	if erpnext:
		cards["Sales Orders Awaiting Sync"] = "1"
	for label, number in cards.items():
		card = page.locator(".widget.number-widget-box", has=page.locator(".widget-title", has_text=label))
		card.locator(".number", has_text=number).first.wait_for()
		assert card.locator(".number").first.inner_text().strip() == number, label

	chart = page.locator(
		".widget.dashboard-widget-box", has=page.locator(".widget-title", has_text="Failed Jobs by Method")
	)
	bars = chart.locator("svg .dataset-units rect")
	bars.first.wait_for()
	# one bar per method of the last 7 days (the resolved one counts too: it failed)
	assert bars.count() >= 2
	labels = chart.locator("svg .x.axis text").evaluate_all("(texts) => texts.map((t) => t.textContent)")
	assert any("daily_cleanup" in label for label in labels), labels
	desk.shot("background-jobs-workspace")

	for label, doctype in SHORTCUTS.items():
		page.locator(".widget.shortcut-widget-box", has_text=label).first.click()
		page.wait_for_url(f"**/app/{slug(doctype)}**")
		page.wait_for_function(
			"(dt) => frappe.get_route().includes(dt) && ((window.cur_list && cur_list.doctype === dt)"
			" || (window.cur_frm && cur_frm.doctype === dt))",
			arg=doctype,
		)
		page.go_back()
		page.wait_for_url("**/app/background-jobs")
		page.locator(".widget.shortcut-widget-box", has_text=label).first.wait_for()
	desk.assert_clean()


def test_a_system_manager_without_sales_access_sees_the_workspace_without_errors(desk, erpnext):
	"""Frappe shows every number card to a System Manager: the Sales Order card counts nothing for
	one who may not read Sales Orders, instead of a "Not permitted" dialog."""
	known_data()
	user = set_password(make_user("it.admin@myapp.test", ["System Manager"]))
	page = desk.login(user)
	desk.goto("/app/background-jobs")
	card = page.locator(
		".widget.number-widget-box",
		has=page.locator(".widget-title", has_text="Sales Orders Awaiting Sync"),
	)
	card.locator(".number", has_text="0").first.wait_for()
	page.locator(".widget.number-widget-box .number", has_text="3").first.wait_for()  # the others load
	assert page.locator(".modal.show", has_text="Not permitted").count() == 0
	desk.assert_clean()


def test_sync_settings_opens_with_or_without_erpnext(desk):
	"""Sync Settings' Company and Warehouse are custom fields added with ERPNext: without it the form
	opens without them (and without the Sales Order buttons) instead of failing with "Missing DocType"."""
	erpnext = "erpnext" in frappe.get_installed_apps()
	user = set_password(make_user("sync.viewer@myapp.test", ["System Manager"]))
	page = desk.login(user)
	desk.goto("/app/sync-settings")
	page.wait_for_function("() => window.cur_frm && cur_frm.doctype === 'Sync Settings'", timeout=15_000)
	page.locator(".frappe-control[data-fieldname='base_url']").first.wait_for()
	assert page.locator(".modal.show", has_text="Missing DocType").count() == 0
	has_company = page.evaluate("() => Boolean(cur_frm.fields_dict.company)")
	retry_buttons = page.locator(
		".page-actions button, .inner-group-button button", has_text="Retry all failed"
	)
	assert (has_company, retry_buttons.count() > 0) == (erpnext, erpnext)
	desk.assert_clean()
