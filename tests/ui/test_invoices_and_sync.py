"""ERPNext flows: Process Draft Invoices from the Invoice Processing Run list (progress, final
counts on the run's form), Retry Sync on a Sales Order whose push was rejected, and Sync
Settings' Retry all failed, against the test API server on 127.0.0.1."""

import frappe
import pytest
from conftest import make_user
from external_api_server import Reply
from test_invoices import invoice_trigger, make_invoices  # noqa: F401  (a fixture)
from test_sync import api, configure, make_order, order  # noqa: F401  (a fixture)

from myapp import sync

from .conftest import JOB_TIMEOUT_MS, set_password, wait_until

pytestmark = pytest.mark.usefixtures("erpnext")

INVOICES = 1200  # three batches of 500


def record_progress(page):
	page.evaluate(
		"""() => {
			window.__myapp_progress = [];
			frappe.realtime.on('progress', (data) => {
				if (data && data.percent !== undefined) window.__myapp_progress.push(data.percent);
			});
		}"""
	)


def test_process_draft_invoices_from_the_list(desk, invoice_trigger):  # noqa: F811
	names = make_invoices(INVOICES, prefix="UI-SINV-")
	invoice_trigger(fail=names[700])  # one invoice fails: logged and counted, the run goes on
	user = set_password(make_user("ui.accounts@myapp.test", ["Accounts Manager"]))

	page = desk.login(user)
	desk.goto("/app/invoice-processing-run")
	page.wait_for_function("() => window.cur_list && cur_list.doctype === 'Invoice Processing Run'")
	record_progress(page)
	desk.click_button("Process Draft Invoices")
	desk.confirm()
	page.wait_for_url("**/app/invoice-processing-run/INV-RUN-*")
	page.wait_for_function("() => window.cur_frm && cur_frm.doctype === 'Invoice Processing Run'")
	page.wait_for_function(
		"() => window.__myapp_progress.some(p => p > 0 && p < 100)", timeout=JOB_TIMEOUT_MS
	)

	desk.indicator().filter(has_text="Completed with Errors").wait_for(timeout=JOB_TIMEOUT_MS)
	# the form's progress bar and its caption, redrawn by the batches' realtime updates
	dashboard = page.locator(".form-dashboard", has=page.locator(".progress-bar"))
	dashboard.filter(has_text=f"{INVOICES - 1} processed, 1 failed, of {INVOICES}").first.wait_for()
	assert page.evaluate("[cur_frm.doc.total, cur_frm.doc.processed, cur_frm.doc.errors]") == [
		INVOICES,
		INVOICES - 1,
		1,
	]
	percents = page.evaluate("window.__myapp_progress")
	assert percents == sorted(percents), percents
	desk.message_dialog(f"{INVOICES - 1} invoices processed, 1 failed")
	desk.close_dialogs()
	desk.shot("invoice-run")
	# an Accounts Manager may not read Error Logs: no button that would only say "Not permitted"
	assert page.locator(".page-actions button:visible", has_text="Error Logs").count() == 0
	page.locator(".page-actions button:visible", has_text="Sales Invoices").first.wait_for()
	desk.assert_clean()


def test_retry_sync_on_a_rejected_sales_order(desk, api):  # noqa: F811
	configure(api)
	name = make_order()
	api.script("POST", "/orders", Reply(400, {"error": "bad data"}))
	sync.push_to_external()
	assert order(name).custom_sync_status == "Error"
	user = set_password(make_user("ui.seller@myapp.test", ["Sales User"]))

	page = desk.login(user)
	desk.open_form("Sales Order", name)
	intro = page.locator(".form-message", has_text="External sync: Error")
	intro.wait_for()
	assert "bad data" in intro.inner_text()
	desk.shot("sales-order-retry-sync")
	desk.click_button("Retry Sync")
	desk.alert(f"Sales Order {name} will be sent to the external system shortly")
	page.wait_for_function("() => cur_frm.doc.custom_sync_status === 'Pending'")
	intro.wait_for(state="hidden")

	wait_until(lambda: order(name).custom_sync_status == "Synced", "the worker did not push the order")
	desk.reload_form()
	page.wait_for_function("() => cur_frm.doc.custom_sync_status === 'Synced'")
	assert len(api.requests_to("POST")) == 2
	desk.assert_clean()


def test_sync_settings_retry_all_failed(desk, api):  # noqa: F811
	configure(api, max_attempts=1)
	failed, rejected, fine = make_order(), make_order(), make_order()
	api.script("POST", "/orders", Reply(500), Reply(400), Reply(201, {"id": "EXT-OK"}))
	sync.push_to_external()
	assert [order(n).custom_sync_status for n in (failed, rejected, fine)] == ["Failed", "Error", "Synced"]
	frappe.db.set_single_value("Sync Settings", "last_pull_cursor", "2026-03-01 08:04:00")
	frappe.db.commit()
	user = set_password(make_user("ui.sync.admin@myapp.test", ["System Manager"]))

	page = desk.login(user)
	desk.open_form("Sync Settings", "Sync Settings")
	# opened, not edited: not dirty, and the stored pull cursor shown with its time
	cursor = page.locator(".frappe-control[data-fieldname='last_pull_cursor']")
	assert "08:04" in (cursor.locator("input").input_value() or cursor.inner_text())
	assert page.evaluate("cur_frm.is_dirty()") is False
	assert page.locator(".page-head .indicator-pill:visible", has_text="Not Saved").count() == 0

	desk.click_button("Retry all failed")
	desk.confirm()
	desk.alert("2 Sales Order(s) put back to Pending")
	desk.shot("sync-settings-retry")
	wait_until(
		lambda: [order(n).custom_sync_status for n in (failed, rejected, fine)] == ["Synced"] * 3,
		"the worker did not push the retried orders",
	)
	assert len(api.requests_to("POST")) == 5
	desk.assert_clean()
