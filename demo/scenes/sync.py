"""Example 2 + workflow 5: the external sync against a local HTTP server standing in for the API.

The server (tests/external_api_server.py) fails the first pushes (503, 503, then 400 for one
order); the next runs retry with backoff and recover. The pull brings in remote orders, one of
them twice and one bad. Backoff is shortened to seconds so that recovery happens within the demo.
"""

import datetime
import time
from collections import Counter

import frappe
from external_api_server import ExternalAPIServer, Reply, iso
from sales_records import COMPANY, TEST_EXCHANGE_RATE, ensure_master_data, make_item

from scenes.base import Scene, ensure

CUSTOMER = "Demo Sync Customer"
ITEM = "DEMO-SYNC-ITEM"
SERVER = None


def start_server():
	global SERVER
	if SERVER is None:
		SERVER = ExternalAPIServer(max_requests=2000, lifetime=3600).start()
		settings = frappe.get_single("Sync Settings")
		settings.update(
			{
				"enabled": 1,
				"base_url": SERVER.url,
				"api_key": "demo-secret-key",
				"timeout": 5,
				"backoff_base": 1,
				"backoff_cap": 4,
				"max_attempts": 3,
				"company": COMPANY,
			}
		)
		settings.save(ignore_permissions=True)
	return SERVER


def seed_masters():
	ensure_master_data()
	make_item(ITEM, "Demo item")
	ensure(
		"Customer",
		CUSTOMER,
		customer_name=CUSTOMER,
		customer_type="Company",
		customer_group="All Customer Groups",
		territory="All Territories",
	)


class ExternalPush(Scene):
	title = "External sync: push"
	method = "myapp.sync.push_to_external"
	schedule = "*/15 * * * *"

	def seed(self):
		seed_masters()
		server = start_server()
		server.script("POST", "/orders", Reply(503), Reply(503), Reply(400, {"error": "customer blocked"}))
		self.orders = []
		for qty in range(1, 7):
			doc = frappe.get_doc(
				{
					"doctype": "Sales Order",
					"customer": CUSTOMER,
					"company": COMPANY,
					"currency": "EUR",
					"conversion_rate": TEST_EXCHANGE_RATE,  # ERPNext refuses EUR without one
					"delivery_date": frappe.utils.add_days(frappe.utils.nowdate(), 7),
					"grand_total": qty * 10,
					"items": [{"item_code": ITEM, "item_name": "Demo item", "qty": qty, "rate": 10}],
				}
			).insert(ignore_permissions=True)
			doc.submit()
			self.orders.append(doc.name)

	def report(self):
		# every submitted order is pushed, the other scenes' too (oldest first: they met the 503s)
		orders = frappe.get_all(
			"Sales Order",
			filters={"docstatus": 1},
			fields=["custom_sync_status", "custom_sync_attempts"],
		)
		synced = [o for o in orders if o.custom_sync_status == "Synced"]
		again = sum(1 for o in synced if o.custom_sync_attempts > 1)
		errors = sum(1 for o in orders if o.custom_sync_status == "Error")
		answers = Counter(r.status for r in SERVER.requests_to("POST"))
		answered = ", ".join(f"{n} x {status}" for status, n in sorted(answers.items()))
		return (
			f"{len(orders)} submitted orders: {len(synced)} Synced ({again} after a 503 and backoff), "
			f"{errors} Error (HTTP 400, not retried); POSTs answered {answered}"
		)


class RetryAllFailed(Scene):
	title = "External sync: Retry all failed"

	def run(self):
		from myapp.api import retry_failed_syncs

		self.result = retry_failed_syncs()
		frappe.db.commit()  # the push job is enqueued when this commits
		deadline = time.monotonic() + 60
		while (
			frappe.db.count("Sales Order", {"custom_sync_status": "Pending"}) and time.monotonic() < deadline
		):
			time.sleep(0.2)
			frappe.db.rollback()  # a fresh snapshot

	def report(self):
		errors = frappe.db.count("Sales Order", {"custom_sync_status": ("in", ("Failed", "Error"))})
		synced = frappe.db.count("Sales Order", {"custom_sync_status": "Synced"})
		total = frappe.db.count("Sales Order", {"docstatus": 1})
		return (
			f"{self.result['count']} order(s) back to Pending and pushed again: {synced} of {total} "
			f"submitted orders Synced, {errors} still failing"
		)


class ExternalPull(Scene):
	title = "External sync: pull"
	method = "myapp.sync.sync_from_external"
	schedule = "hourly"

	def seed(self):
		seed_masters()
		server = start_server()
		t0 = datetime.datetime.utcnow() - datetime.timedelta(days=1)
		for i, customer in enumerate([CUSTOMER, CUSTOMER, CUSTOMER, "Unknown Ltd", CUSTOMER]):
			record = {
				"id": f"REMOTE-{i}",
				"customer": customer,
				"status": "Confirmed",
				"updated_at": iso(t0 + datetime.timedelta(minutes=10 * i)),
				"items": [{"sku": ITEM, "qty": 1, "rate": 25}],
			}
			server.remote_orders.append(record)
		server.remote_orders.append(dict(server.remote_orders[1]))  # the same record twice

	def report(self):
		created = frappe.db.count("Sales Order", {"custom_external_id": ("like", "REMOTE-%")})
		skipped = frappe.get_all(
			"Error Log", filters={"method": ("like", "External sync: skipped pulled order%")}, pluck="method"
		)
		cursor = frappe.db.get_single_value("Sync Settings", "last_pull_cursor")
		return (
			f"{created} draft orders from 6 records (one sent twice); skipped and logged: "
			f"{', '.join(sorted({m.rsplit(' ', 1)[-1] for m in skipped})) or '-'} (unknown customer); "
			f"cursor {cursor}, re-read with a 5-minute overlap each hour"
		)


SCENES = [ExternalPush(), ExternalPull(), RetryAllFailed()]
