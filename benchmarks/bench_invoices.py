"""Workflow 4 on 100,000 draft Sales Invoices: the app's chained batches (myapp.invoices) run by
1 and by 2 real workers, beside the seed's `get_doc` + `save` per invoice (measured on a sample).

The worker rows time a whole run, from its start to the run's Completed status, including the
workers' start-up; their peak MB is the largest resident memory of a worker process or its work
horse (psutil), the seed row's how far the measuring process's RSS grew during the loop.

Run: .venv/bin/python benchmarks/bench_invoices.py [invoices] [seed sample]  (or `make bench` for all)
"""

import sys

from common import Table, bench_site, measure, run_workers_until

# isort: split
import frappe
from frappe.utils import now, nowdate
from sales_records import COMPANY, CURRENCY, make_customer, make_item

from myapp.invoices import ACTIVE_STATUSES, RUN_DOCTYPE, start_run

JOB = "invoices: process drafts"
BATCH_SIZE = 500
CUSTOMER = "Bench Customer"
ITEM = "Bench Item"


def seed_invoices(count):
	"""`count` draft invoices of one item each, as an import would leave them (bulk_insert)."""
	for doctype in ("Sales Invoice", "Sales Invoice Item", RUN_DOCTYPE):
		frappe.db.sql(f"delete from `tab{doctype}`")
	timestamp = now()
	standard = ["creation", "modified", "owner", "modified_by", "docstatus"]
	frappe.db.bulk_insert(
		"Sales Invoice",
		["name", *standard, "naming_series", "customer", "company", "currency", "conversion_rate"]
		+ ["posting_date", "due_date", "status", "total", "net_total", "grand_total", "outstanding_amount"]
		+ ["custom_processed"],
		(
			(
				f"BENCH-SINV-{i:07d}",
				timestamp,
				timestamp,
				"Administrator",
				"Administrator",
				0,
				"ACC-SINV-.YYYY.-",
			)
			+ (CUSTOMER, COMPANY, CURRENCY, 1, nowdate(), nowdate(), "Draft", 100, 100, 100, 100, 0)
			for i in range(count)
		),
	)
	frappe.db.bulk_insert(
		"Sales Invoice Item",
		["name", *standard, "parent", "parenttype", "parentfield", "idx", "item_code", "item_name"]
		+ ["qty", "uom", "stock_uom", "conversion_factor", "rate", "amount"],
		(
			(f"BENCH-SINV-{i:07d}-1", timestamp, timestamp, "Administrator", "Administrator", 0)
			+ (f"BENCH-SINV-{i:07d}", "Sales Invoice", "items", 1, ITEM, ITEM, 1, "Nos", "Nos", 1, 100, 100)
			for i in range(count)
		),
	)
	frappe.db.commit()


def ensure_masters():
	if not frappe.db.exists("Customer", CUSTOMER):
		make_customer(CUSTOMER)
	make_item(ITEM)
	frappe.db.commit()


def seed_style(sample):
	"""The seed's process_single_invoice on the batches its chain would take: get_doc + save each."""
	names = frappe.get_all(
		"Sales Invoice", filters={"docstatus": 0, "custom_processed": 0}, pluck="name", limit=sample
	)
	for start in range(0, len(names), BATCH_SIZE):
		for name in names[start : start + BATCH_SIZE]:
			doc = frappe.get_doc("Sales Invoice", name)
			doc.custom_processed = 1
			doc.save(ignore_permissions=True)
		frappe.db.commit()
	return len(names)


def chunked_run(workers):
	"""(seconds, peak worker RSS in MB, run document) of one run with `workers` worker processes."""
	run = start_run(batch_size=BATCH_SIZE)["run"]
	frappe.db.commit()  # enqueues the first batch
	seconds, peak_mb = run_workers_until(
		lambda: frappe.db.get_value(RUN_DOCTYPE, run, "status") not in ACTIVE_STATUSES, workers
	)
	return seconds, peak_mb, frappe.get_doc(RUN_DOCTYPE, run)


def run(table=None, invoices=100_000, seed_sample=2_000):
	table = table or Table()
	bench_site("bench_invoices")
	ensure_masters()

	seed_invoices(seed_sample)
	processed, seconds, peak = measure(seed_style, seed_sample)
	assert processed == seed_sample, processed
	seed_rate = table.add(JOB, "seed: get_doc + save each", seed_sample, seconds, peak, "in-process")

	rates = {}
	for workers in (1, 2):
		seed_invoices(invoices)
		seconds, peak_rss, doc = chunked_run(workers)
		assert (doc.status, doc.processed) == ("Completed", invoices), doc.as_dict()
		note = f"{doc.batches} batch jobs; worker RSS"
		if workers == 2:
			note += f"; {invoices / seconds / rates[1]:.2f}x of 1 worker"
		path = f"app: batches of {BATCH_SIZE}, {workers} worker{'s' if workers > 1 else ''}"
		rates[workers] = table.add(JOB, path, invoices, seconds, peak_rss, note, baseline_rate=seed_rate)
	return table


if __name__ == "__main__":
	run(None, *map(int, sys.argv[1:3])).print()
