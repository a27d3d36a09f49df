"""Workflows 3, 6, 7 and example 3: the user-triggered jobs, through their endpoints (myapp.api).

A Sales User limited to the Retail customer group exports customers (only Retail ones land in
the file), asks for the customer list report (progress, file, email), and imports two CSV
files: a clean one, and one with bad rows in the middle that are reported with their lines.
"""

import csv
import io
import json
import time

import frappe

from scenes.base import Scene, ensure

USER = "demo.sales@myapp.test"
HEADER = ["customer_name", "customer_group", "territory", "customer_type"]


def as_demo_user(fn, *args, **kwargs):
	frappe.set_user(USER)
	try:
		return fn(*args, **kwargs)
	finally:
		frappe.set_user("Administrator")
		frappe.db.commit()


def upload(file_name, rows):
	buffer = io.StringIO(newline="")
	csv.writer(buffer).writerows(rows)
	file = frappe.get_doc(
		{"doctype": "File", "file_name": file_name, "content": buffer.getvalue().encode(), "is_private": 1}
	)
	file.insert(ignore_permissions=True)
	frappe.db.set_value("File", file.name, "owner", USER)
	frappe.db.commit()
	return file.file_url


def wait_until(done, timeout=300):
	"""The worker runs the job: wait for its outcome (a queue can look empty between dequeue and start)."""
	deadline = time.monotonic() + timeout
	while time.monotonic() < deadline:
		frappe.db.commit()  # a fresh snapshot
		if done():
			return
		time.sleep(0.2)


def latest_file(prefix):
	return frappe.get_all(
		"File",
		filters={"file_name": ("like", f"{prefix}%"), "owner": USER},
		fields=["file_url", "file_size"],
		order_by="creation desc",
		limit=1,
	)


class CustomerExport(Scene):
	title = "Customer export"

	def seed(self):
		for group in ("Retail", "Wholesale"):
			ensure("Customer Group", group, customer_group_name=group)
		ensure("Territory", "Europe", territory_name="Europe")
		# Sales Master Manager: ERPNext 15 gives it the export and import rights on Customer
		ensure("User", USER, email=USER, first_name="Demo Sales", user_type="System User",
			send_welcome_email=0, roles=[{"role": "Sales User"}, {"role": "Sales Master Manager"}])  # fmt: skip
		if not frappe.db.exists("User Permission", {"user": USER, "allow": "Customer Group"}):
			frappe.get_doc({"doctype": "User Permission", "user": USER, "allow": "Customer Group",
				"for_value": "Retail", "apply_to_all_doctypes": 1}).insert(ignore_permissions=True)  # fmt: skip
		for i in range(120):
			group = "Retail" if i % 3 else "Wholesale"
			ensure("Customer", f"Demo Customer {i:03d}", customer_name=f"Demo Customer {i:03d}",
				customer_group=group, territory="Europe")  # fmt: skip
		ensure(
			"Customer",
			"=HYPERLINK(evil)",
			customer_name="=HYPERLINK(evil)",
			customer_group="Retail",
			territory="Europe",
		)

	def run(self):
		from myapp.api import start_customer_export

		as_demo_user(start_customer_export, filters=json.dumps({}))
		wait_until(lambda: latest_file("customer_export"))

	def report(self):
		files = latest_file("customer_export")
		if not files:
			return "no file"
		path = frappe.get_site_path(files[0].file_url.lstrip("/"))
		with open(path, encoding="utf-8-sig", newline="") as f:
			rows = list(csv.reader(f))[1:]
		groups = ", ".join(sorted({row[4] for row in rows}))
		evil = ", ".join(row[0] for row in rows if "HYPERLINK" in row[0])
		return (
			f"{len(rows)} rows, customer group {groups} only (a Retail-only user), {files[0].file_url}; "
			f"the formula cell written as {evil}"
		)


class CustomerListReport(Scene):
	title = "Customer list report"

	def run(self):
		from myapp.api import generate_report

		as_demo_user(generate_report, report_type="customer_list")
		# the file is committed first, the email with its link right after
		wait_until(lambda: frappe.db.count("Email Queue", {"reference_doctype": "File"}))

	def report(self):
		files = latest_file("customer_list")
		emails = frappe.db.count("Email Queue", {"reference_doctype": "File"})
		return f"file {files[0].file_url if files else '-'}, {emails} email(s) queued with the link"


class CustomerImport(Scene):
	title = "CSV import, clean file"
	file_name = "demo-import-clean.csv"

	def rows(self):
		return [HEADER, *([f"Imported Customer {i:03d}", "Retail", "Europe", "Company"] for i in range(250))]

	def run(self):
		from myapp.api import start_csv_import

		self.log = as_demo_user(
			start_csv_import, file_url=upload(self.file_name, self.rows()), doctype="Customer"
		)["import_log"]
		finished = ("Success", "Completed with Errors", "Error")
		wait_until(lambda: frappe.db.get_value("CSV Import Log", self.log, "status") in finished)

	def report(self):
		log = frappe.get_doc("CSV Import Log", self.log)
		failed = "; ".join(f"line {row.row_number}: {row.error}" for row in log.failed_rows)
		return f"{log.name}: {log.status}, {log.success_count}/{log.total_rows} imported, {log.error_count} failed{': ' + failed if failed else ''}"


class CustomerImportWithBadRows(CustomerImport):
	title = "CSV import, bad rows in the middle"
	file_name = "demo-import-bad.csv"

	def rows(self):
		rows = [HEADER, *([f"Batch Customer {i:03d}", "Retail", "Europe", "Company"] for i in range(200))]
		rows[50] = ["Robot Customer", "Retail", "Europe", "Robot"]
		rows[120] = ["Lost Customer", "No Such Group", "Europe", "Company"]
		return rows


SCENES = [CustomerExport(), CustomerListReport(), CustomerImport(), CustomerImportWithBadRows()]
