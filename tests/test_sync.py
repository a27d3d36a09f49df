"""External sync (example 2 + workflow 5) against a real HTTP server on 127.0.0.1.

The server (tests/external_api_server.py) is scripted per test; every test bounds the number
of requests it expects. Time is never waited for: a record's next attempt is moved into the
past with an UPDATE, as if the backoff had elapsed.
"""

import datetime
import email
import email.policy
import random
import socket
from pathlib import Path

import frappe
import pytest
from conftest import addresses_of_test_users, call_endpoint, make_user, queued_emails, run_scheduler
from external_api_server import ExternalAPIServer, Reply, iso
from frappe.utils import add_to_date, get_datetime, now_datetime
from sales_records import ensure_warehouse, set_default_warehouse

from myapp import sync
from myapp.utils.retry import backoff_seconds, failure_from_exception, parse_retry_after

# ERPNext DocTypes throughout: skipped on a bench site without ERPNext (see conftest.erpnext)
pytestmark = pytest.mark.usefixtures("erpnext")

SECRET = "sk_live_TopSecret_9f8e7d6c5b4a"
COMPANY = "Sync Test Company"
ITEMS = ("SYNC-ITEM-A", "SYNC-ITEM-B")  # stock items with a default warehouse of COMPANY
NO_WAREHOUSE_ITEM = "SYNC-ITEM-NO-WH"  # a stock item without one
SERVICE_ITEM = "SYNC-SERVICE"  # not a stock item


# --- fixtures and helpers ----------------------------------------------------------------


@pytest.fixture
def api():
	with ExternalAPIServer(max_requests=200, lifetime=300) as server:
		yield server
	assert not server.overflowed, "the sync sent more requests than the test allows"


def configure(server, **values):
	master_data()
	settings = frappe.get_single("Sync Settings")
	settings.update(
		{
			"enabled": 1,
			"base_url": server.url if server else "http://127.0.0.1:9/v1",
			"api_key": SECRET,
			"timeout": 2,
			"batch_size": 50,
			"max_attempts": 3,
			"backoff_base": 60,
			"backoff_cap": 3600,
			"stop_after_consecutive_failures": 5,
			"pull_overlap_seconds": 300,
			"company": COMPANY,
			**values,
		}
	)
	settings.save(ignore_permissions=True)
	frappe.db.commit()
	return settings


def ensure(doctype, name, **values):
	if not frappe.db.exists(doctype, name):
		frappe.get_doc({"doctype": doctype, **values}).insert(ignore_permissions=True)
	return name


def master_data():
	ensure("Country", "Testland", country_name="Testland")
	ensure("Currency", "EUR", currency_name="EUR")
	ensure("Company", COMPANY, company_name=COMPANY, abbr="STC", default_currency="EUR", country="Testland")
	ensure("UOM", "Nos", uom_name="Nos")
	ensure("Item Group", "All Item Groups", item_group_name="All Item Groups", is_group=1)
	ensure("Customer Group", "All Customer Groups", customer_group_name="All Customer Groups", is_group=1)
	ensure("Territory", "All Territories", territory_name="All Territories", is_group=1)
	for code, is_stock_item in ((ITEMS[0], 1), (ITEMS[1], 1), (NO_WAREHOUSE_ITEM, 1), (SERVICE_ITEM, 0)):
		ensure(
			"Item",
			code,
			item_code=code,
			item_name=f"Item {code}",
			item_group="All Item Groups",
			stock_uom="Nos",
			is_stock_item=is_stock_item,
		)
	for code in ITEMS:
		set_default_warehouse(code, COMPANY, stores())


def stores():
	"""COMPANY's "Stores" warehouse (ERPNext creates it with the company; the testbed here)."""
	return ensure_warehouse(COMPANY, "Stores")


def make_customer(name="Sync Customer"):
	master_data()
	return ensure(
		"Customer",
		name,
		customer_name=name,
		customer_type="Company",
		customer_group="All Customer Groups",
		territory="All Territories",
	)


def make_order(submit=True, customer=None, qty=2, rate=50):
	customer = customer or make_customer()
	doc = frappe.get_doc(
		{
			"doctype": "Sales Order",
			"customer": customer,
			"company": COMPANY,
			"currency": "EUR",
			# the site's selling price list may be in another currency (USD after the setup wizard):
			# a rate given keeps ERPNext from looking one up on the internet
			"plc_conversion_rate": 1,
			"transaction_date": frappe.utils.nowdate(),
			"delivery_date": frappe.utils.add_days(frappe.utils.nowdate(), 7),
			"grand_total": qty * rate,
			"items": [
				{
					"item_code": ITEMS[0],
					"item_name": "Item A",
					"qty": qty,
					"rate": rate,
					"delivery_date": frappe.utils.add_days(frappe.utils.nowdate(), 7),
					"warehouse": stores(),
				}
			],
		}
	)
	doc.insert(ignore_permissions=True)
	if submit:
		doc.submit()
	frappe.db.commit()
	return doc.name


def order(name):
	frappe.db.rollback()  # a fresh snapshot: the sync commits in its own transactions
	return frappe.db.get_value(
		"Sales Order",
		name,
		[
			"custom_sync_status",
			"custom_sync_attempts",
			"custom_sync_error",
			"custom_next_sync_at",
			"custom_sync_date",
			"custom_external_id",
			"custom_external_status",
			"docstatus",
			"modified",
		],
		as_dict=True,
	)


def make_due(name):
	"""As if the backoff had elapsed."""
	frappe.db.sql(
		"update `tabSales Order` set custom_next_sync_at=%s where name=%s",
		(add_to_date(now_datetime(), seconds=-1), name),
	)
	frappe.db.commit()


def error_logs():
	frappe.db.rollback()
	return frappe.get_all(
		"Error Log",
		fields=["method", "error", "reference_doctype", "reference_name"],
		order_by="creation asc",
	)


def sync_logs(sync_type=None):
	frappe.db.rollback()
	filters = {"sync_type": sync_type} if sync_type else {}
	return frappe.get_all("Sync Log", filters=filters, fields=["*"], order_by="creation asc")


def email_html(row) -> str:
	"""The HTML part of a queued email (Email Queue stores the MIME message, quoted-printable)."""
	message = email.message_from_string(row.message, policy=email.policy.default)
	return "".join(part.get_content() for part in message.walk() if part.get_content_type() == "text/html")


def free_port():
	with socket.socket() as s:
		s.bind(("127.0.0.1", 0))
		return s.getsockname()[1]


# --- the retry policy ------------------------------------------------------------------------


def test_backoff_is_exponential_capped_and_jittered():
	rng = random.Random(7)
	for attempt, ceiling in ((1, 60), (2, 120), (3, 240), (7, 3600), (20, 3600)):
		delays = [backoff_seconds(attempt, 60, 3600, rng=rng) for _ in range(200)]
		assert all(ceiling / 2 <= d <= ceiling for d in delays), (attempt, min(delays), max(delays))
		assert len({round(d, 3) for d in delays}) > 150  # jitter: records failing together spread out
	# Retry-After is a floor, even above the cap
	assert backoff_seconds(1, 60, 3600, retry_after=7200, rng=rng) == 7200


def test_retry_after_parsing():
	now = datetime.datetime(2026, 1, 1, 12, 0, tzinfo=datetime.timezone.utc)
	assert parse_retry_after("120") == 120
	assert parse_retry_after("Thu, 01 Jan 2026 12:05:00 GMT", now=now) == 300
	assert parse_retry_after("Thu, 01 Jan 2026 11:00:00 GMT", now=now) == 0  # in the past
	assert parse_retry_after("soon") is None
	assert parse_retry_after(None) is None
	assert parse_retry_after("99999999") == 24 * 60 * 60  # bounded


def test_exceptions_that_retry():
	import requests

	assert failure_from_exception(requests.ConnectTimeout("x")).retryable
	assert failure_from_exception(requests.ReadTimeout("x")).retryable
	assert failure_from_exception(requests.ConnectionError("x")).retryable
	assert not failure_from_exception(requests.exceptions.InvalidURL("x")).retryable


# --- statuses on submit / amend, POST then PUT ------------------------------------------------


def test_create_then_update_through_amendment(api):
	configure(api)
	name = make_order()
	assert order(name).custom_sync_status == "Pending"

	result = sync.push_to_external()
	assert result["synced"] == 1
	[post] = api.requests_to("POST")
	assert post.json == {
		"order_id": name,
		"customer": "Sync Customer",
		"total": 100.0,
		"items": [{"sku": ITEMS[0], "qty": 2.0, "rate": 50.0}],
	}
	assert post.headers["Authorization"] == f"Bearer {SECRET}"
	synced = order(name)
	assert synced.custom_sync_status == "Synced"
	assert synced.custom_external_id == "EXT-1"
	assert synced.custom_sync_attempts == 1
	assert synced.custom_sync_date is not None

	# nothing is due any more
	sync.push_to_external()
	assert len(api.requests) == 1

	# cancel and amend: the amendment keeps the external id, is Pending once submitted, and is PUT
	original = frappe.get_doc("Sales Order", name)
	original.cancel()
	amended = frappe.copy_doc(original)
	amended.amended_from = name
	amended.items[0].qty = 3
	amended.grand_total = 150
	amended.insert(ignore_permissions=True)
	assert amended.custom_external_id == "EXT-1"
	assert not amended.custom_sync_status
	amended.submit()
	frappe.db.commit()
	assert order(amended.name).custom_sync_status == "Pending"

	sync.push_to_external()
	[put] = api.requests_to("PUT")
	assert put.path == "/v1/orders/EXT-1"
	assert put.json["order_id"] == amended.name
	assert put.json["items"] == [{"sku": ITEMS[0], "qty": 3.0, "rate": 50.0}]
	assert len(api.requests_to("POST")) == 1
	assert order(amended.name).custom_sync_status == "Synced"
	assert order(name).docstatus == 2  # the cancelled original is never pushed again


def test_a_duplicated_order_starts_unsynced(api):
	configure(api)
	name = make_order()
	sync.push_to_external()
	copy = frappe.copy_doc(frappe.get_doc("Sales Order", name))
	copy.insert(ignore_permissions=True)
	assert not copy.custom_external_id and not copy.custom_sync_status


# --- retryable failures -----------------------------------------------------------------------


def test_server_error_then_success(api):
	configure(api)
	name = make_order()
	api.script("POST", "/orders", Reply(500, {"error": "database down"}))

	before = now_datetime()
	sync.push_to_external()
	failed = order(name)
	assert failed.custom_sync_status == "Retry Pending"
	assert failed.custom_sync_attempts == 1
	assert "HTTP 500" in failed.custom_sync_error and "database down" in failed.custom_sync_error
	# first retry: base 60 s with jitter in [30, 60]
	wait = (get_datetime(failed.custom_next_sync_at) - before).total_seconds()
	assert 29 <= wait <= 61 + (now_datetime() - before).total_seconds()
	assert error_logs() == []  # a retry is not yet an error

	# not due yet: the next run sends nothing
	sync.push_to_external()
	assert len(api.requests) == 1

	make_due(name)
	sync.push_to_external()
	ok = order(name)
	assert ok.custom_sync_status == "Synced"
	assert ok.custom_sync_attempts == 2
	assert ok.custom_sync_error is None and ok.custom_next_sync_at is None
	assert len(api.requests_to("POST")) == 2


def test_timeout_retries(api):
	configure(api, timeout=1)
	name = make_order()
	api.script("POST", "/orders", Reply(201, {"id": "late"}, delay=2.5))
	sync.push_to_external()
	state = order(name)
	assert state.custom_sync_status == "Retry Pending"
	assert state.custom_sync_error.startswith("Timeout")
	assert state.custom_external_id is None


def test_connection_refused_retries():
	configure(None, base_url=f"http://127.0.0.1:{free_port()}/v1")
	name = make_order()
	result = sync.push_to_external()
	assert result["retrying"] == 1
	state = order(name)
	assert state.custom_sync_status == "Retry Pending"
	assert state.custom_sync_error.startswith("Connection error")


def test_429_honours_retry_after_and_stops_the_run(api):
	configure(api)
	first, second = make_order(), make_order()
	api.script("POST", "/orders", Reply(429, {"error": "slow down"}, headers={"Retry-After": "7200"}))
	before = now_datetime()
	result = sync.push_to_external()

	assert len(api.requests) == 1  # rate limited: the run does not go on to the second order
	assert result["stopped_early"]
	limited = order(first)
	assert limited.custom_sync_status == "Retry Pending"
	# Retry-After (2 h) beats both the first backoff (<= 60 s) and the cap (1 h)
	assert (get_datetime(limited.custom_next_sync_at) - before).total_seconds() >= 7200
	assert order(second).custom_sync_status == "Pending"
	assert order(second).custom_sync_attempts == 0
	[log] = sync_logs("Push")
	assert log.stopped_early and log.status == "Stopped"


def test_consecutive_failures_stop_the_run(api):
	configure(api, stop_after_consecutive_failures=3)
	names = [make_order() for _ in range(6)]
	api.script("POST", "/orders", *[Reply(503) for _ in range(10)])
	result = sync.push_to_external()
	assert len(api.requests) == 3
	assert result["stopped_early"] and result["retrying"] == 3
	statuses = sorted(order(n).custom_sync_status for n in names)
	assert statuses == ["Pending"] * 3 + ["Retry Pending"] * 3
	[log] = sync_logs("Push")
	assert log.stopped_early and "3 consecutive failures" in log.message


# --- permanent failures -----------------------------------------------------------------------


def test_client_error_is_an_error_without_retry(api):
	configure(api)
	name = make_order()
	api.script("POST", "/orders", Reply(400, {"error": "unknown customer"}))
	sync.push_to_external()
	state = order(name)
	assert state.custom_sync_status == "Error"
	assert state.custom_sync_attempts == 1
	assert state.custom_next_sync_at is None
	assert "HTTP 400" in state.custom_sync_error and "unknown customer" in state.custom_sync_error
	[log] = error_logs()
	assert log.method == f"External sync rejected Sales Order {name}"
	assert (log.reference_doctype, log.reference_name) == ("Sales Order", name)

	# never retried by the schedules
	make_due(name)
	sync.push_to_external()
	sync.sync_to_external_system()
	assert len(api.requests) == 1


def test_max_attempts_reached_is_failed_logged_and_notified(api):
	configure(api, max_attempts=2)
	manager = make_user("sync.manager@myapp.test", roles=["System Manager"])
	make_user("sales.user@myapp.test", roles=["Sales User"])
	frappe.db.commit()
	name = make_order()
	api.script("POST", "/orders", Reply(503), Reply(502))

	sync.push_to_external()
	assert order(name).custom_sync_status == "Retry Pending"
	assert queued_emails() == []
	make_due(name)
	sync.push_to_external()

	state = order(name)
	assert state.custom_sync_status == "Failed"
	assert state.custom_sync_attempts == 2
	assert state.custom_sync_error.startswith("Max attempts reached (2)")
	assert "HTTP 502" in state.custom_sync_error
	[log] = error_logs()
	assert log.method == f"External sync failed for Sales Order {name}"
	assert log.reference_name == name
	[notice] = queued_emails()
	assert addresses_of_test_users(notice.recipients) == [manager]  # System Managers only
	html = email_html(notice)
	assert name in html and "Failed" in html and "HTTP 502" in html

	# Failed is final for the schedules
	make_due(name)
	sync.sync_to_external_system()
	assert len(api.requests) == 2


def test_error_text_in_the_notice_is_escaped(api):
	configure(api)
	make_user("sync.manager@myapp.test", roles=["System Manager"])
	name = make_order()
	api.script("POST", "/orders", Reply(422, "<script>alert(1)</script>"))
	sync.push_to_external()
	[notice] = queued_emails()
	html = email_html(notice)
	assert name in html
	assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- the Retry buttons ------------------------------------------------------------------------


def test_retry_sync_button(api, drain):
	configure(api)
	name = make_order()
	api.script("POST", "/orders", Reply(400, {"error": "bad data"}))
	sync.push_to_external()
	assert order(name).custom_sync_status == "Error"

	seller = make_user("seller@myapp.test", roles=["Sales User"])
	ensure("Role", "Stock User", role_name="Stock User")
	reader = make_user("reader@myapp.test", roles=["Stock User"])
	frappe.db.commit()
	with pytest.raises(frappe.PermissionError):
		call_endpoint("myapp.api.retry_order_sync", http_method="GET", user=seller, name=name)
	with pytest.raises(frappe.PermissionError):
		call_endpoint("myapp.api.retry_order_sync", user=reader, name=name)
	assert order(name).custom_sync_status == "Error"

	call_endpoint("myapp.api.retry_order_sync", user=seller, name=name)
	frappe.db.commit()  # what the request does when it ends; the push is enqueued after it
	state = order(name)
	assert (state.custom_sync_status, state.custom_sync_attempts, state.custom_sync_error) == (
		"Pending",
		0,
		None,
	)

	drain()
	assert order(name).custom_sync_status == "Synced"
	assert len(api.requests_to("POST")) == 2

	# a synced order has nothing to retry
	with pytest.raises(frappe.ValidationError):
		call_endpoint("myapp.api.retry_order_sync", user=seller, name=name)


def test_retry_all_failed_button(api, drain):
	configure(api, max_attempts=1)
	failed, rejected, fine = make_order(), make_order(), make_order()
	api.script("POST", "/orders", Reply(500), Reply(400), Reply(201, {"id": "EXT-OK"}))
	sync.push_to_external()
	assert [order(n).custom_sync_status for n in (failed, rejected, fine)] == ["Failed", "Error", "Synced"]

	seller = make_user("seller@myapp.test", roles=["Sales Manager"])
	admin = make_user("admin@myapp.test", roles=["System Manager"])
	frappe.db.commit()
	with pytest.raises(frappe.PermissionError):
		call_endpoint("myapp.api.retry_failed_syncs", user=seller)
	with pytest.raises(frappe.PermissionError):
		call_endpoint("myapp.api.retry_failed_syncs", http_method="GET", user=admin)

	result = call_endpoint("myapp.api.retry_failed_syncs", user=admin)
	frappe.db.commit()
	assert result["count"] == 2
	assert [order(n).custom_sync_status for n in (failed, rejected, fine)] == ["Pending", "Pending", "Synced"]

	drain()
	assert [order(n).custom_sync_status for n in (failed, rejected, fine)] == ["Synced"] * 3
	assert len(api.requests_to("POST")) == 5


# --- schedules and concurrency ----------------------------------------------------------------


def test_scheduled_job_types():
	jobs = frappe.get_all("Scheduled Job Type", fields=["method", "frequency", "cron_format"])
	by_method = {job.method: job for job in jobs}
	assert by_method["myapp.sync.push_to_external"].frequency == "Cron"
	assert by_method["myapp.sync.push_to_external"].cron_format == "*/15 * * * *"
	assert by_method["myapp.sync.sync_from_external"].frequency == "Hourly"
	assert by_method["myapp.tasks.sync_to_external_system"].frequency == "Hourly"


def test_scheduler_push_in_a_worker(api, drain):
	configure(api)
	name = make_order()
	enqueued = run_scheduler(
		datetime.datetime.now().replace(second=0, microsecond=0) + datetime.timedelta(days=1)
	)
	assert "myapp.sync.push_to_external" in enqueued
	drain()
	assert order(name).custom_sync_status == "Synced"
	assert len(api.requests_to("POST")) == 1


def test_sweep_pushes_every_due_batch(api):
	configure(api, batch_size=2)
	names = [make_order() for _ in range(5)]
	result = sync.sync_to_external_system()
	assert result["synced"] == 5
	assert {order(n).custom_sync_status for n in names} == {"Synced"}
	assert sorted(r.json["order_id"] for r in api.requests_to("POST")) == sorted(names)
	# the 15-minute push does one batch only
	more = [make_order() for _ in range(3)]
	assert sync.push_to_external()["synced"] == 2
	assert sorted(order(n).custom_sync_status for n in more) == ["Pending", "Synced", "Synced"]


def test_two_workers_push_each_order_once(api, drain):
	configure(api)
	names = [make_order() for _ in range(12)]
	# slow answers keep both workers busy at the same time
	api.script("POST", "/orders", *[Reply(201, _new_id, delay=0.15) for _ in range(12)])
	frappe.enqueue("myapp.sync.push_to_external", queue="default", job_id="push-a")
	frappe.enqueue("myapp.sync.push_to_external", queue="default", job_id="push-b")
	frappe.enqueue("myapp.tasks.sync_to_external_system", queue="default", job_id="sweep")
	drain(workers=3)

	sent = [r.json["order_id"] for r in api.requests_to("POST")]
	assert sorted(sent) == sorted(names), "each order is sent exactly once"
	assert {order(n).custom_sync_status for n in names} == {"Synced"}
	logs = sync_logs("Push")
	assert sum(log.attempted for log in logs) == 12
	assert len({order(n).custom_external_id for n in names}) == 12


_ids = iter(range(1000, 100000))


def _new_id(request):
	return {"id": f"EXT-{next(_ids)}"}


def test_disabled_sync_sends_nothing(api):
	configure(api, enabled=0)
	make_order()
	assert sync.push_to_external() is None
	assert sync.sync_from_external() is None
	assert api.requests == []


# --- pull -------------------------------------------------------------------------------------


def remote(external_id, updated_at, customer="Sync Customer", status="Confirmed", **extra):
	return {
		"id": external_id,
		"customer": customer,
		"status": status,
		"updated_at": iso(updated_at),
		"items": [{"sku": ITEMS[1], "qty": 1, "rate": 10}],
		**extra,
	}


def local_by_external_id():
	frappe.db.rollback()
	rows = frappe.get_all(
		"Sales Order",
		filters={"custom_external_id": ("is", "set")},
		fields=["name", "custom_external_id", "custom_external_status", "docstatus", "modified"],
	)
	return {row.custom_external_id: row for row in rows}


def test_pull_pages_and_stores_the_cursor(api):
	configure(api, batch_size=2)
	make_customer()
	t0 = datetime.datetime(2026, 3, 1, 8, 0, 0)
	for i in range(5):
		api.remote_orders.append(remote(f"R-{i}", t0 + datetime.timedelta(minutes=i)))

	result = sync.sync_from_external()
	assert result["pages"] == 3 and result["received"] == 5 and result["synced"] == 5
	gets = api.requests_to("GET")
	assert [g.query.get("page") for g in gets] == [None, "2", "3"]
	assert all("updated_since" not in g.query for g in gets)  # first pull: everything
	assert all(g.headers["Authorization"] == f"Bearer {SECRET}" for g in gets)

	local = local_by_external_id()
	assert sorted(local) == [f"R-{i}" for i in range(5)]
	assert {row.docstatus for row in local.values()} == {0}  # drafts, for a human to submit
	assert {row.custom_external_status for row in local.values()} == {"Confirmed"}
	assert get_datetime(frappe.get_single("Sync Settings").last_pull_cursor) == t0 + datetime.timedelta(
		minutes=4
	)
	[log] = sync_logs("Pull")
	assert (log.status, log.attempted, log.synced) == ("Success", 5, 5)


def test_pull_overlap_window_catches_a_late_update(api):
	configure(api, pull_overlap_seconds=300)
	make_customer()
	cursor = datetime.datetime(2026, 3, 1, 9, 0, 0)
	frappe.db.set_single_value("Sync Settings", "last_pull_cursor", cursor)
	frappe.db.commit()
	# committed on the other side after our last pull, stamped before our cursor
	api.remote_orders.append(remote("LATE", cursor - datetime.timedelta(seconds=100)))
	api.remote_orders.append(remote("OLD", cursor - datetime.timedelta(hours=2)))

	sync.sync_from_external()
	[get] = api.requests_to("GET")
	assert get.query["updated_since"] == "2026-03-01T08:55:00Z"
	assert sorted(local_by_external_id()) == ["LATE"]
	# the cursor never moves backwards
	assert get_datetime(frappe.get_single("Sync Settings").last_pull_cursor) == cursor


def test_pull_failure_keeps_the_cursor_of_the_last_good_page(api):
	configure(api, batch_size=2)
	make_customer()
	t0 = datetime.datetime(2026, 3, 1, 8, 0, 0)
	for i in range(4):
		api.remote_orders.append(remote(f"R-{i}", t0 + datetime.timedelta(minutes=i)))
	# page 1 (the default reply), then page 2 fails
	api.script(
		"GET", "/orders", Reply(200, lambda r: api._list_page(r.query)), Reply(502, {"error": "gateway"})
	)

	result = sync.sync_from_external()
	assert result["synced"] == 2 and "HTTP 502" in result["error"]
	assert sorted(local_by_external_id()) == ["R-0", "R-1"]
	cursor = get_datetime(frappe.get_single("Sync Settings").last_pull_cursor)
	assert cursor == t0 + datetime.timedelta(minutes=1)
	# stored as Desk's Datetime control reads it: a datetime handed to set_single_value would be
	# written by v15 as "2026-03-01T08:01:00", which the form shows as midnight and saves back so
	stored = frappe.db.sql(
		"select value from `tabSingles` where doctype='Sync Settings' and field='last_pull_cursor'"
	)[0][0]
	assert stored.startswith("2026-03-01 08:01:00"), stored
	[log] = error_logs()
	assert log.method == "External sync: pull failed"
	assert sync_logs("Pull")[0].status == "Partial"

	# the next pull starts from the last good page (minus the overlap) and finishes
	sync.sync_from_external()
	resumed = api.requests_to("GET")[2]
	assert "page" not in resumed.query
	assert resumed.query["updated_since"] == iso(cursor - datetime.timedelta(seconds=300))
	assert sorted(local_by_external_id()) == ["R-0", "R-1", "R-2", "R-3"]


def test_pull_is_idempotent_and_skips_a_bad_record(api):
	configure(api)
	make_customer()
	pushed = make_order()
	sync.push_to_external()  # the local order is EXT-1 on the other side
	t0 = datetime.datetime(2026, 3, 1, 8, 0, 0)
	api.remote_orders.extend(
		[
			remote("EXT-1", t0, status="Shipped"),
			remote("DUP", t0 + datetime.timedelta(minutes=1)),
			remote("DUP", t0 + datetime.timedelta(minutes=1)),  # the same record twice in one page
			remote("BAD", t0 + datetime.timedelta(minutes=2), customer="Nobody Ltd"),
			remote("GOOD", t0 + datetime.timedelta(minutes=3)),
		]
	)
	result = sync.sync_from_external()
	assert (result["received"], result["synced"], result["skipped"]) == (5, 4, 1)
	local = local_by_external_id()
	assert sorted(local) == ["DUP", "EXT-1", "GOOD"]
	assert local["EXT-1"].name == pushed and local["EXT-1"].custom_external_status == "Shipped"
	[bad] = error_logs()
	assert bad.method == "External sync: skipped pulled order BAD"
	assert "Nobody Ltd" in bad.error
	assert get_datetime(frappe.get_single("Sync Settings").last_pull_cursor) == t0 + datetime.timedelta(
		minutes=3
	)

	# the same records again (the overlap window, or a retry): nothing changes
	snapshot = {k: (v.name, v.modified, v.custom_external_status) for k, v in local.items()}
	count = frappe.db.count("Sales Order")
	frappe.db.set_single_value("Sync Settings", "last_pull_cursor", None)
	frappe.db.commit()
	sync.sync_from_external()
	again = local_by_external_id()
	assert {k: (v.name, v.modified, v.custom_external_status) for k, v in again.items()} == snapshot
	assert frappe.db.count("Sales Order") == count
	# a pushed order is not re-pushed because the pull touched it
	assert order(pushed).custom_sync_status == "Synced"


def test_pull_links_an_order_whose_post_response_was_lost(api):
	configure(api)
	make_customer()
	name = make_order()
	frappe.db.set_value("Sales Order", name, "custom_sync_status", "Synced", update_modified=False)
	frappe.db.commit()
	api.remote_orders.append(remote("EXT-LOST", datetime.datetime(2026, 3, 1), order_id=name))
	sync.sync_from_external()
	assert order(name).custom_external_id == "EXT-LOST"
	assert frappe.db.count("Sales Order") == 1


# --- pulled orders that ERPNext 15 accepts -----------------------------------------------------


def pulled(external_id):
	"""The order a record became, with its item rows; None when the record was skipped."""
	frappe.db.rollback()
	name = frappe.db.get_value("Sales Order", {"custom_external_id": external_id})
	return frappe.get_doc("Sales Order", name) if name else None


def assert_row_warehouses(doc, expected):
	assert [row.warehouse for row in doc.items] == expected


def skip_reason(external_id):
	[log] = [
		log for log in error_logs() if log.method == f"External sync: skipped pulled order {external_id}"
	]
	return log.error


def other_company_warehouse():
	ensure(
		"Company",
		"Other Sync Company",
		company_name="Other Sync Company",
		abbr="OSC",
		default_currency="EUR",
		country="Testland",
	)
	return ensure_warehouse("Other Sync Company", "Stores")


def test_pulled_order_gets_dates_currency_and_the_items_default_warehouse(api):
	configure(api)
	make_customer()
	backroom = ensure_warehouse(COMPANY, "Backroom")
	t0 = datetime.datetime(2026, 3, 1, 8, 0, 0)
	api.remote_orders.extend(
		[
			remote("DEFAULT", t0, date="2026-03-01", delivery_date="2026-03-10"),
			# the record's own warehouse wins; one of another company is not used
			remote("OWN", t0, items=[{"sku": ITEMS[1], "qty": 2, "rate": 5, "warehouse": backroom}]),
			remote(
				"FOREIGN-WH",
				t0,
				items=[{"sku": ITEMS[1], "qty": 1, "rate": 5, "warehouse": other_company_warehouse()}],
			),
			# the transaction date when the record has no delivery date
			remote("NO-DELIVERY-DATE", t0, date="2026-03-02"),
		]
	)
	result = sync.sync_from_external()
	assert (result["synced"], result["skipped"]) == (4, 0), error_logs()

	doc = pulled("DEFAULT")
	assert (doc.company, doc.currency, doc.conversion_rate) == (COMPANY, "EUR", 1)
	assert str(doc.transaction_date) == "2026-03-01" and str(doc.delivery_date) == "2026-03-10"
	assert [str(row.delivery_date) for row in doc.items] == ["2026-03-10"]
	assert doc.order_type == "Sales" and doc.docstatus == 0
	no_date = pulled("NO-DELIVERY-DATE")
	assert str(no_date.delivery_date) == "2026-03-02"
	assert [str(row.delivery_date) for row in no_date.items] == ["2026-03-02"]
	assert_row_warehouses(doc, [stores()])
	assert_row_warehouses(pulled("OWN"), [backroom])
	assert_row_warehouses(pulled("FOREIGN-WH"), [stores()])


def test_pulled_order_gets_the_sync_settings_warehouse(api):
	configure(api, default_warehouse=stores())
	make_customer()
	api.remote_orders.append(
		remote(
			"SETTINGS-WH",
			datetime.datetime(2026, 3, 1),
			items=[{"sku": NO_WAREHOUSE_ITEM, "qty": 1, "rate": 7}],
		)
	)
	assert sync.sync_from_external()["synced"] == 1, error_logs()
	assert_row_warehouses(pulled("SETTINGS-WH"), [stores()])


def test_pulled_record_without_any_warehouse_is_skipped_with_the_reason(api):
	# a Sync Settings warehouse of another company is not used either
	configure(api, default_warehouse=other_company_warehouse())
	make_customer()
	t0 = datetime.datetime(2026, 3, 1)
	api.remote_orders.extend(
		[
			remote("NO-WH", t0, items=[{"sku": NO_WAREHOUSE_ITEM, "qty": 1, "rate": 7}]),
			remote("BAD-DATES", t0, date="2026-03-05", delivery_date="2026-03-04"),
			# a service (not a stock item) needs no warehouse
			remote("SERVICE", t0, items=[{"sku": SERVICE_ITEM, "qty": 1, "rate": 7}]),
		]
	)
	result = sync.sync_from_external()
	assert (result["synced"], result["skipped"]) == (1, 2)
	assert pulled("NO-WH") is None and pulled("BAD-DATES") is None
	assert pulled("SERVICE").docstatus == 0

	reason = skip_reason("NO-WH")
	assert f"Item {NO_WAREHOUSE_ITEM} is a stock item and no warehouse is set" in reason
	assert "the record's warehouse is not set" in reason
	assert f"the default warehouse of Item {NO_WAREHOUSE_ITEM} for company {COMPANY} is not set" in reason
	assert (
		"the Default Warehouse in Sync Settings" in reason
		and "belongs to company Other Sync Company" in reason
	)
	assert "the Default Warehouse in Stock Settings" in reason
	assert "delivery_date 2026-03-04 is before the order date 2026-03-05" in skip_reason("BAD-DATES")
	assert frappe.db.get_value("Sync Log", {"sync_type": "Pull"}, "status") == "Partial"


def test_pulled_order_falls_back_to_stock_settings_warehouse(api):
	configure(api)
	make_customer()
	before = frappe.db.get_single_value("Stock Settings", "default_warehouse")
	frappe.db.set_single_value("Stock Settings", "default_warehouse", stores())
	frappe.db.commit()
	try:
		api.remote_orders.append(
			remote(
				"STOCK-WH",
				datetime.datetime(2026, 3, 1),
				items=[{"sku": NO_WAREHOUSE_ITEM, "qty": 1, "rate": 7}],
			)
		)
		assert sync.sync_from_external()["synced"] == 1, error_logs()
		doc = pulled("STOCK-WH")
	finally:
		frappe.db.set_single_value("Stock Settings", "default_warehouse", before)
		frappe.db.commit()
	assert_row_warehouses(doc, [stores()])


def test_foreign_currency_record_needs_a_conversion_rate(api):
	configure(api)
	make_customer()
	ensure("Currency", "USD", currency_name="USD")
	t0 = datetime.datetime(2026, 3, 1)
	api.remote_orders.extend(
		[
			remote("USD-NO-RATE", t0, currency="USD"),
			remote("USD-RATE-1", t0, currency="USD", conversion_rate=1),
			remote("USD", t0 + datetime.timedelta(minutes=1), currency="USD", conversion_rate=0.92),
			remote("EUR", t0 + datetime.timedelta(minutes=2), currency="EUR"),
		]
	)
	result = sync.sync_from_external()
	assert (result["synced"], result["skipped"]) == (2, 2)
	for external_id in ("USD-NO-RATE", "USD-RATE-1"):
		assert pulled(external_id) is None
		assert (
			f"The record is in USD, not in EUR (the currency of company {COMPANY}), and has no conversion_rate"
			in skip_reason(external_id)
		)
	usd = pulled("USD")
	assert (usd.currency, usd.conversion_rate) == ("USD", 0.92)
	assert [(row.item_code, row.qty, row.rate) for row in usd.items] == [(ITEMS[1], 1, 10)]
	eur = pulled("EUR")
	assert (eur.currency, eur.conversion_rate) == ("EUR", 1)


# --- the API key ------------------------------------------------------------------------------


def test_api_key_is_never_logged(api, drain, sites_path):
	configure(api, max_attempts=1)
	make_user("sync.manager@myapp.test", roles=["System Manager"])
	frappe.db.commit()
	first, second = make_order(), make_order()

	def echo_headers(request):
		return f"bad request, you sent {request.headers}"

	api.script("POST", "/orders", Reply(400, echo_headers), Reply(500, echo_headers))
	api.script("GET", "/orders", Reply(500, echo_headers))
	frappe.enqueue("myapp.sync.push_to_external", queue="default")
	frappe.enqueue("myapp.sync.sync_from_external", queue="default")
	output = drain()

	# the key was used ...
	assert all(r.headers["Authorization"] == f"Bearer {SECRET}" for r in api.requests)
	assert len(api.requests) == 3
	# ... and the server echoed it back, yet it is stored nowhere
	assert {order(first).custom_sync_status, order(second).custom_sync_status} == {"Error", "Failed"}
	texts = [output]
	texts += [f"{log.method} {log.error}" for log in error_logs()]
	texts += [order(n).custom_sync_error for n in (first, second)]
	texts += [str(log.message) for log in sync_logs()]
	texts += [row.message + email_html(row) for row in queued_emails()]
	for path in Path(sites_path).rglob("*.log"):
		texts.append(path.read_text(errors="replace"))
	assert len(error_logs()) == 3
	assert all("********" in order(n).custom_sync_error for n in (first, second))
	for text in texts:
		assert SECRET not in (text or "")
	# the key is stored encrypted, not in Singles
	assert not frappe.db.sql(
		"select 1 from `tabSingles` where doctype='Sync Settings' and value like %s", f"%{SECRET}%"
	)
