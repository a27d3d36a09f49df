"""The user-triggered job endpoints of myapp.api: permissions, HTTP verbs and de-duplication."""

import json
import threading

import frappe
import pytest
from conftest import call_endpoint, connect_site, make_user, pending_jobs
from user_jobs_helpers import customer_masters, make_customer, upload_csv

from myapp.utils.jobs import JobAlreadyQueuedError

# ERPNext DocTypes throughout: skipped on a bench site without ERPNext (see conftest.erpnext)
pytestmark = pytest.mark.usefixtures("erpnext")

ENDPOINTS = [
	("myapp.api.start_customer_export", {}),
	("myapp.api.start_export", {"doctype": "Customer"}),
	("myapp.api.generate_report", {"report_type": "customer_list"}),
	("myapp.api.start_csv_import", {"file_url": "/private/files/x.csv", "doctype": "Customer"}),
	("myapp.api.start_import", {"import_log": "x"}),
	("myapp.api.download_failed_rows", {"import_log": "x"}),
]


@pytest.fixture(autouse=True)
def masters(erpnext):
	customer_masters()


@pytest.mark.parametrize(("method", "kwargs"), ENDPOINTS)
def test_guest_is_refused(method, kwargs):
	with pytest.raises(frappe.PermissionError):
		call_endpoint(method, user="Guest", **kwargs)
	assert pending_jobs() == 0


@pytest.mark.parametrize(("method", "kwargs"), ENDPOINTS)
def test_actions_are_post_only(method, kwargs):
	with pytest.raises(frappe.PermissionError):
		call_endpoint(method, http_method="GET", **kwargs)


def test_a_user_without_the_right_is_refused_before_anything_is_queued():
	user = make_user("nobody@myapp.test", [])
	frappe.db.commit()
	file_url = upload_csv("c.csv", [["customer_name"], ["A"]], owner=user)
	for method, kwargs in [
		("myapp.api.start_customer_export", {}),
		("myapp.api.generate_report", {"report_type": "customer_list"}),
		("myapp.api.start_csv_import", {"file_url": file_url, "doctype": "Customer"}),
	]:
		with pytest.raises(frappe.PermissionError):
			call_endpoint(method, user=user, **kwargs)
	assert pending_jobs() == 0
	assert frappe.get_all("CSV Import Log") == []


def concurrently(method, user, count=20, **kwargs):
	"""`count` requests at once, each in its own thread with its own site connection (as web
	workers would); returns the outcomes: the response or the exception class."""
	barrier = threading.Barrier(count)
	outcomes = []
	lock = threading.Lock()

	def request():
		connect_site()
		try:
			barrier.wait()
			try:
				outcome = call_endpoint(method, user=user, **kwargs)
				frappe.db.commit()
			except Exception as e:
				frappe.db.rollback()
				outcome = type(e)
			with lock:
				outcomes.append(outcome)
		finally:
			frappe.destroy()

	threads = [threading.Thread(target=request) for _ in range(count)]
	for thread in threads:
		thread.start()
	for thread in threads:
		thread.join(timeout=60)
	return outcomes


def accepted(outcomes):
	return [o for o in outcomes if isinstance(o, dict)]


@pytest.mark.parametrize(
	("method", "kwargs"),
	[
		("myapp.api.start_customer_export", {"filters": json.dumps({"customer_group": "Retail"})}),
		("myapp.api.generate_report", {"report_type": "customer_list"}),
	],
)
def test_twenty_identical_requests_at_once_queue_one_job_and_the_claim_ends_with_it(drain, method, kwargs):
	user = make_user("busy@myapp.test", ["Sales Master Manager"])
	make_customer("Someone", "Retail")
	frappe.db.commit()

	outcomes = concurrently(method, user, **kwargs)
	assert len(outcomes) == 20
	assert len(accepted(outcomes)) == 1
	assert outcomes.count(JobAlreadyQueuedError) == 19
	assert pending_jobs() == 1

	drain()
	assert len(frappe.get_all("File", filters={"is_folder": 0})) == 1
	# the job has ended: the same request is accepted again
	assert call_endpoint(method, user=user, **kwargs)["job_id"] == accepted(outcomes)[0]["job_id"]


def test_different_requests_do_not_wait_for_each_other():
	user = make_user("two.exports@myapp.test", ["Sales Master Manager"])
	other_user = make_user("colleague@myapp.test", ["Sales Master Manager"])
	frappe.db.commit()
	retail = {"filters": json.dumps({"customer_group": "Retail"})}
	first = call_endpoint("myapp.api.start_customer_export", user=user, **retail)
	other_filters = call_endpoint(
		"myapp.api.start_customer_export", user=user, filters=json.dumps({"customer_group": "Wholesale"})
	)
	other_user_same_filters = call_endpoint("myapp.api.start_customer_export", user=other_user, **retail)
	assert len({first["job_id"], other_filters["job_id"], other_user_same_filters["job_id"]}) == 3
	assert pending_jobs() == 3


def test_twenty_imports_of_the_same_file_at_once_leave_one_log_and_one_job(site):
	user = make_user("loader@myapp.test", ["Sales Master Manager"])
	frappe.db.commit()
	# the user's own upload: a private file of another user is not theirs to import
	file_url = upload_csv(
		"c.csv", [["customer_name", "customer_group", "territory"], ["A", "Retail", "Europe"]], owner=user
	)

	outcomes = concurrently("myapp.api.start_csv_import", user, file_url=file_url, doctype="Customer")
	assert len(accepted(outcomes)) == 1 and outcomes.count(JobAlreadyQueuedError) == 19
	frappe.db.rollback()
	logs = frappe.get_all("CSV Import Log", fields=["name", "status", "started_by"])
	assert [(log.name, log.status, log.started_by) for log in logs] == [
		(accepted(outcomes)[0]["import_log"], "Queued", user)
	]
	assert pending_jobs() == 1
	# the same log cannot be started a second time while its job waits
	with pytest.raises(JobAlreadyQueuedError):
		call_endpoint("myapp.api.start_import", user=user, import_log=logs[0].name)


def test_the_import_pickers_refused_doctypes_are_in_the_desk_boot():
	from myapp.boot import boot_session

	bootinfo = frappe._dict()
	boot_session(bootinfo)
	# the CSV Import Log's picker leaves these out of `frappe.boot.user.can_import`
	refused = bootinfo.myapp_import_refused_doctypes
	assert {"DocType", "Custom Field", "Client Script", "Property Setter"} <= set(refused)
	assert not {"User", "Role", "Print Format", "ToDo"} & set(refused)
	assert "myapp.boot.boot_session" in frappe.get_hooks("boot_session")
