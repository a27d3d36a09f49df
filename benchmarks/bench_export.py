"""Workflow 3's export of 100,000 Customers (5 columns) to a private CSV File: the app's stream
(`frappe.get_list` permission filter, unbuffered cursor, rows written as they come) beside the
seed's `frappe.get_all` + DictWriter into a StringIO, and beside a bare unbuffered cursor
without permissions (the ceiling). The app runs as a Sales Master Manager (read + export on Customer) restricted by a User
Permission.

Run: .venv/bin/python benchmarks/bench_export.py [rows]  (or `make bench` for all)
"""

import csv  # noqa: I001  (common must come first: it puts the testbed on sys.path)
import importlib
import importlib.util
import io
import sys

from common import Table, bench_site, measure

import frappe
from frappe.utils import now_datetime

from myapp.export import export_doctype
from myapp.utils.preload import MODULES

FIELDS = ["name", "customer_name", "customer_group", "territory", "customer_type"]
USER = "bench.exporter@myapp.test"


def seed_customers(count):
	for doctype, field, value in (
		("Customer Group", "customer_group_name", "Retail"),
		("Territory", "territory_name", "Europe"),
	):
		if not frappe.db.exists(doctype, value):
			frappe.get_doc({"doctype": doctype, field: value}).insert(ignore_permissions=True)
	frappe.db.sql("delete from `tabCustomer`")
	when = now_datetime()
	frappe.db.bulk_insert(
		"Customer",
		[
			"name",
			"customer_name",
			"customer_group",
			"territory",
			"customer_type",
			"creation",
			"modified",
			"owner",
			"modified_by",
		],
		(
			(
				f"CUST-{i:07d}",
				f"Customer ={i} & Co",
				"Retail",
				"Europe",
				"Company",
				when,
				when,
				"Administrator",
				"Administrator",
			)
			for i in range(count)
		),
	)
	frappe.db.commit()


def restricted_user():
	if not frappe.db.exists("User", USER):
		frappe.get_doc(
			{"doctype": "User", "email": USER, "first_name": "Exporter", "user_type": "System User",
			 "send_welcome_email": 0, "roles": [{"role": "Sales Master Manager"}]}
		).insert(ignore_permissions=True)  # fmt: skip
		frappe.get_doc(
			{"doctype": "User Permission", "user": USER, "allow": "Customer Group", "for_value": "Retail",
			 "apply_to_all_doctypes": 1}
		).insert(ignore_permissions=True)  # fmt: skip
	frappe.db.commit()
	return USER


def seed_style_export(user):
	"""Workflow 3 as the seed writes it: every row in memory, then a StringIO, then File.insert."""
	frappe.set_user(user)
	rows = frappe.get_all("Customer", fields=FIELDS, limit_page_length=0)
	output = io.StringIO()
	writer = csv.DictWriter(output, fieldnames=FIELDS)
	writer.writeheader()
	writer.writerows(rows)
	frappe.get_doc(
		{
			"doctype": "File",
			"file_name": "customers_export.csv",
			"content": output.getvalue(),
			"is_private": 1,
		}
	).insert(ignore_permissions=True)
	frappe.db.commit()
	frappe.set_user("Administrator")
	return len(rows)


def bare_cursor_export(path):
	"""The ceiling: one unbuffered query, no permission check, straight to a file."""
	query = "select `name`, `customer_name`, `customer_group`, `territory`, `customer_type` from `tabCustomer` order by name"
	count = 0

	def counted(rows):
		nonlocal count
		for row in rows:
			count += 1
			yield row

	with open(path, "w", newline="", buffering=1024 * 1024) as out, frappe.db.unbuffered_cursor():
		csv.writer(out).writerows(counted(frappe.db.sql(query, as_list=True, as_iterator=True)))
	return count


def app_export(user):
	frappe.set_user(user)
	try:
		return export_doctype("Customer", fields=FIELDS)
	finally:
		frappe.set_user("Administrator")


def run(table=None, rows=100_000):
	table = table or Table()
	bench_site("bench_export")
	seed_customers(rows)
	user = restricted_user()

	count, seconds, peak = measure(seed_style_export, user)
	assert count == rows, count
	seed_rate = table.add(
		"export: customers to CSV", "seed: get_all + StringIO", rows, seconds, peak, "no permissions"
	)

	count, seconds, peak = measure(bare_cursor_export, frappe.get_site_path("private", "files", "bare.csv"))
	cursor_rate = table.add(
		"export: customers to CSV",
		"unbuffered cursor only",
		count,
		seconds,
		peak,
		"no permissions, no File",
		seed_rate,
	)

	result, seconds, peak = measure(app_export, user)
	assert result["records"] == rows, result
	table.add(
		"export: customers to CSV",
		"app: get_list stream, restricted user",
		rows,
		seconds,
		peak,
		note=f"{rows / seconds / cursor_rate:.2f}x of the bare cursor; User Permission applied",
		baseline_rate=seed_rate,
	)
	return table


def timed(export, *args):
	"""A path of `ROUNDS`: the customers are in place (`ROUNDS["setup"]`); time one export."""

	def path(rows):
		result, seconds, peak = measure(export, *args)
		count = result if isinstance(result, int) else result["records"]
		assert count == rows, count
		return count, seconds, peak

	return path


def as_in_a_bench_worker(path):
	"""`path` in a process that has imported what `bench worker` preloads for its work horses
	(myapp.utils.preload), untimed: an export job's start in production."""

	def run(rows):
		for module in MODULES:
			importlib.import_module(module)
		return path(rows)

	run.unavailable = lambda: (
		None if importlib.util.find_spec("frappe.utils.bench_helper") else "the testbed has no bench worker"
	)
	return run


def setup_rounds(rows):
	if frappe.db.count("Customer") != rows or frappe.db.exists("Customer", {"name": ("not like", "CUST-%")}):
		seed_customers(rows)
	restricted_user()


# benchmarks/rounds.py: each path in a fresh process, interleaved rounds
ROUNDS = {
	"job": "export: customers to CSV",
	"site": "bench_export",
	"rows": 100_000,
	"setup": setup_rounds,
	"reference": ("unbuffered cursor only",),
	"paths": {
		"unbuffered cursor only": timed(
			lambda: bare_cursor_export(frappe.get_site_path("private", "files", "bare.csv"))
		),
		"seed: get_all + StringIO": timed(lambda: seed_style_export(USER)),
		"app: restricted user, nothing preloaded": timed(lambda: app_export(USER)),
		"app: restricted user, bench worker": as_in_a_bench_worker(timed(lambda: app_export(USER))),
		"app: Administrator, bench worker": as_in_a_bench_worker(timed(lambda: app_export("Administrator"))),
	},
}


if __name__ == "__main__":
	run(None, *map(int, sys.argv[1:2])).print()
