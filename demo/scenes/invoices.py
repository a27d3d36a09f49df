"""Workflow 4: an Accounts Manager processes 5,000 draft Sales Invoices in chained batch jobs
(myapp.api.start_invoice_processing); the Invoice Processing Run shows counters and job ids."""

import time

import frappe
from frappe.utils import now, nowdate

from scenes.base import Scene

USER = "demo.accounts@myapp.test"
DRAFTS = 5_000
SUBMITTED = 50


class ChunkedInvoiceProcessing(Scene):
	title = "Chunked invoice processing"

	def seed(self):
		if not frappe.db.exists("User", USER):
			frappe.get_doc({"doctype": "User", "email": USER, "first_name": "Demo Accounts",
				"user_type": "System User", "send_welcome_email": 0,
				"roles": [{"role": "Accounts Manager"}]}).insert(ignore_permissions=True)  # fmt: skip
		timestamp = now()
		standard = (timestamp, timestamp, "Administrator", "Administrator")
		fields = ["name", "creation", "modified", "owner", "modified_by", "docstatus", "customer"]
		fields += ["posting_date", "status", "grand_total", "outstanding_amount", "custom_processed"]
		customer = "Demo Customer 001"
		rows = [
			(f"DEMO-SINV-{i:05d}", *standard, 0, customer, nowdate(), "Draft", 100, 100, 0)
			for i in range(DRAFTS)
		]
		rows += [
			(f"DEMO-SINV-SUBMITTED-{i:03d}", *standard, 1, customer, nowdate(), "Unpaid", 100, 100, 0)
			for i in range(SUBMITTED)
		]
		frappe.db.bulk_insert("Sales Invoice", fields, rows)

	def run(self):
		from myapp.api import start_invoice_processing

		frappe.set_user(USER)
		try:
			self.run_name = start_invoice_processing(batch_size=500)["run"]
		finally:
			frappe.set_user("Administrator")
		started = time.monotonic()
		frappe.db.commit()  # the first batch is enqueued when the request commits
		deadline = started + 600
		while time.monotonic() < deadline:
			frappe.db.commit()  # a fresh snapshot
			status = frappe.db.get_value("Invoice Processing Run", self.run_name, "status")
			if status not in ("Queued", "Running"):
				break
			time.sleep(0.2)
		self.seconds = time.monotonic() - started

	def report(self):
		run = frappe.get_doc("Invoice Processing Run", self.run_name)
		untouched = frappe.db.count("Sales Invoice", {"docstatus": 1, "custom_processed": 0})
		return (
			f"{run.name}: {run.status}, {run.processed}/{run.total} drafts processed, {run.errors} errors, "
			f"{run.batches} batch jobs, ~{run.processed / self.seconds:,.0f} invoices/s with one worker; "
			f"{untouched} submitted invoices left alone"
		)


SCENES = [ChunkedInvoiceProcessing()]
