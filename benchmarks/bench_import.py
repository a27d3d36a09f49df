"""Example 3's CSV import of 10,000 Customers: the app's job (full validation, a savepoint per
row, commit + counters every 100 rows) beside the seed's loop (`get_doc(...).insert()` per row,
whole file in memory), in this process and on 1 and 2 real workers (the import in chunks claimed
by each worker's job, issue 12; timed from the start to the log's final status, workers' start-up
included; peak MB: the largest resident memory of a worker or its work horse). Also the memory of
reading a 200,000-row file: the app's two streamed passes beside the seed's
`list(csv.DictReader(StringIO(content)))`.

Run: .venv/bin/python benchmarks/bench_import.py [rows] [rows to read]  (or `make bench` for all)
"""

import csv  # noqa: I001  (common must come first: it puts the testbed on sys.path)
import io
import sys

from common import Table, bench_site, measure, run_workers_until

import frappe

from myapp.importer import map_header, read_csv, run_csv_import, scan_file, start_import

HEADER = ["customer_name", "customer_group", "territory", "customer_type", "tax_id"]
# the header and the i-th row of a file for each DocType the benchmarks import
FILES = {
	"Customer": (HEADER, lambda i: [f"Customer {i:07d}", "Retail", "Europe", "Company", f"T{i}"]),
	"ToDo": (["description", "status", "priority"], lambda i: [f"Call customer {i:07d}", "Open", "Medium"]),
}


def masters():
	for doctype, field, value in (
		("Customer Group", "customer_group_name", "Retail"),
		("Territory", "territory_name", "Europe"),
	):
		if not frappe.db.exists(doctype, value):
			frappe.get_doc({"doctype": doctype, field: value}).insert(ignore_permissions=True)
	frappe.db.commit()


def write_csv(name, rows, doctype="Customer"):
	header, make_row = FILES[doctype]
	path = frappe.get_site_path("private", "files", name)
	with open(path, "w", newline="", encoding="utf-8") as f:
		writer = csv.writer(f)
		writer.writerow(header)
		writer.writerows(make_row(i) for i in range(rows))
	file = frappe.get_doc(
		{"doctype": "File", "file_name": name, "file_url": f"/private/files/{name}", "is_private": 1}
	)
	file.insert(ignore_permissions=True)
	frappe.db.commit()
	return file.file_url, path


def seed_style_import(path):
	"""Example 3 as the seed writes it (minus its bugs' effects on correctness)."""
	with open(path, encoding="utf-8") as f:
		rows = list(csv.DictReader(io.StringIO(f.read())))
	for i, row in enumerate(rows):
		frappe.get_doc({"doctype": "Customer", **row}).insert(ignore_permissions=True)
		if i % 100 == 0:
			frappe.db.commit()
	frappe.db.commit()
	return len(rows)


def app_import(file_url):
	log = frappe.get_doc(
		{"doctype": "CSV Import Log", "import_file": file_url, "reference_doctype": "Customer"}
	)
	log.insert(ignore_permissions=True)
	frappe.db.commit()
	result = run_csv_import(log.name)
	return result, frappe.get_doc("CSV Import Log", log.name)


def worker_import(file_url, workers, doctype="Customer"):
	"""(seconds, peak worker RSS in MB, log) of one import on `workers` real worker processes."""
	log = frappe.get_doc(
		{
			"doctype": "CSV Import Log",
			"import_file": file_url,
			"reference_doctype": doctype,
			"workers": workers,
		}
	).insert(ignore_permissions=True)
	start_import(log.name)
	frappe.db.commit()  # enqueues the job
	seconds, peak_mb = run_workers_until(
		lambda: frappe.db.get_value("CSV Import Log", log.name, "status") not in ("Queued", "Running"),
		workers,
	)
	return seconds, peak_mb, frappe.get_doc("CSV Import Log", log.name)


def seed_style_read(path):
	with open(path, encoding="utf-8") as f:
		return len(list(csv.DictReader(io.StringIO(f.read()))))


def app_read(path):
	header, total = scan_file(path)
	map_header("Customer", header)
	count = sum(1 for _ in read_csv(path)) - 1
	assert count == total
	return total


def run(table=None, rows=10_000, read_rows=200_000):
	table = table or Table()
	bench_site("bench_import")
	masters()

	frappe.db.sql("delete from `tabCustomer`")
	_url, path = write_csv("seed.csv", rows)
	count, seconds, peak = measure(seed_style_import, path)
	assert count == rows and frappe.db.count("Customer") == rows
	seed_rate = table.add("import: customers from CSV", "seed: get_doc().insert() loop", rows, seconds, peak)

	frappe.db.sql("delete from `tabCustomer`")
	frappe.db.commit()
	file_url, _path = write_csv("app.csv", rows)
	(result, log), seconds, peak = measure(app_import, file_url)
	assert (result["status"], log.success_count) == ("Success", rows), (result, log.as_dict())
	table.add(
		"import: customers from CSV",
		"app: savepoint per row, commit per 100",
		rows,
		seconds,
		peak,
		# Frappe's Data Import only runs in a real bench: compare with it there (README), not here
		note="vs Frappe Data Import: see README (real v15 bench)",
		baseline_rate=seed_rate,
	)

	rates = {}
	for workers in (1, 2):
		frappe.db.sql("delete from `tabCustomer`")
		frappe.db.commit()
		file_url, _path = write_csv(f"workers{workers}.csv", rows)
		seconds, peak_rss, log = worker_import(file_url, workers)
		assert (log.status, log.success_count, log.workers_used) == ("Success", rows, workers), log.as_dict()
		note = "worker RSS"
		if workers == 2:
			note += f"; {rows / seconds / rates[1]:.2f}x of 1 worker"
		path = f"app: chunks of 100, {workers} worker{'s' if workers > 1 else ''}"
		rates[workers] = table.add(
			"import: customers from CSV", path, rows, seconds, peak_rss, note, baseline_rate=seed_rate
		)

	_url, big = write_csv("big.csv", read_rows)
	count, seconds, peak = measure(seed_style_read, big)
	read_rate = table.add("import: read the CSV", "seed: whole file, list of dicts", count, seconds, peak)
	count, seconds, peak = measure(app_read, big)
	table.add(
		"import: read the CSV", "app: streamed (both passes)", count, seconds, peak, baseline_rate=read_rate
	)
	return table


def data_import_on_a_worker(file_url, doctype):
	"""(seconds, peak worker RSS in MB, Data Import) of Frappe's Data Import (Insert New Records)
	of the file, run as Desk runs it: its `start_import` job, here on one worker of the long queue."""
	data_import = frappe.get_doc(
		{
			"doctype": "Data Import",
			"reference_doctype": doctype,
			"import_type": "Insert New Records",
			"import_file": file_url,
		}
	).insert(ignore_permissions=True)
	job = frappe.enqueue(
		"frappe.core.doctype.data_import.data_import.start_import",
		queue="long",
		timeout=10000,
		data_import=data_import.name,
	)
	frappe.db.commit()
	# the job's end, not the status: Data Import says "Partial Success" from its first row on
	seconds, peak_mb = run_workers_until(lambda: job.get_status(refresh=True) in ("finished", "failed"), 1)
	return seconds, peak_mb, frappe.get_doc("Data Import", data_import.name)


def empty_table(doctype):
	frappe.db.sql(f"delete from `tab{doctype}`")
	frappe.db.commit()


def app_on_workers(workers):
	"""A path of `ROUNDS`: this app's import of a fresh file on `workers` workers."""

	def path(rows, doctype="Customer"):
		empty_table(doctype)
		# a new file each time: an import of the same file is refused while an earlier one may run
		file_url, _path = write_csv(f"rounds-{workers}-{frappe.generate_hash(length=8)}.csv", rows, doctype)
		seconds, peak_mb, log = worker_import(file_url, workers, doctype)
		assert (log.status, log.success_count) == ("Success", rows), log.as_dict()
		assert frappe.db.count(doctype) == rows
		return rows, seconds, peak_mb

	return path


def frappe_data_import(rows, doctype="Customer"):
	empty_table(doctype)
	file_url, _path = write_csv("rounds-data-import.csv", rows, doctype)
	seconds, peak_mb, data_import = data_import_on_a_worker(file_url, doctype)
	assert data_import.status == "Success" and frappe.db.count(doctype) == rows, data_import.as_dict()
	return rows, seconds, peak_mb


frappe_data_import.unavailable = lambda: (
	None if frappe.db.exists("DocType", "Data Import") else "Frappe's Data Import runs only in a real bench"
)


def setup_rounds(rows, doctype="Customer"):
	if doctype == "Customer":
		masters()


# benchmarks/rounds.py: each path in a fresh process, interleaved rounds; peak MB of the workers
ROUNDS = {
	"job": "import: CSV on workers",
	"site": "bench_import",
	"rows": 10_000,
	"setup": setup_rounds,
	"reference": ("Frappe Data Import, 1 worker", "app: 1 worker"),
	"paths": {
		"Frappe Data Import, 1 worker": frappe_data_import,
		"app: 1 worker": app_on_workers(1),
		"app: 2 workers": app_on_workers(2),
	},
}


if __name__ == "__main__":
	run(None, *map(int, sys.argv[1:3])).print()
