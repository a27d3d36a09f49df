"""Issue 12: `bench --site S myapp import FILE --doctype D [--update] [--workers N]`, through click's
CliRunner as bench runs it (in the sites folder), with real workers taking the import's jobs."""

import csv

import frappe
import pytest
from conftest import start_worker
from support import connect_site
from user_jobs_helpers import customer_masters, make_customer

# ERPNext DocTypes throughout: skipped on a bench site without ERPNext (see conftest.erpnext)
pytestmark = pytest.mark.usefixtures("erpnext")

HEADER = ["customer_name", "customer_group", "territory", "customer_type"]


@pytest.fixture
def bench(site, sites_path, monkeypatch):
	"""invoke(args): the `myapp` command group run as bench runs it; the site connected again after."""
	from click.testing import CliRunner

	from myapp.commands import commands

	customer_masters()
	monkeypatch.chdir(sites_path)  # bench runs its commands in the sites folder
	obj = {"sites": [site], "force": False, "profile": False}

	def invoke(*args):
		try:
			return CliRunner().invoke(commands[0], list(args), obj=obj)
		finally:
			connect_site()

	return invoke


def write_csv(path, rows):
	with open(path, "w", newline="", encoding="utf-8") as f:
		csv.writer(f).writerows(rows)
	return str(path)


def test_import_command_creates_the_log_waits_with_progress_and_reports_failed_rows(bench, tmp_path):
	rows = [HEADER] + [[f"Cli {i:04d}", "Retail", "Europe", "Company"] for i in range(300)]
	rows[41] = ["Cli Bad", "Retail", "Europe", "Robot"]  # line 42
	path = write_csv(tmp_path / "customers.csv", rows)
	workers = [start_worker("long", burst=False) for _ in range(2)]

	out = bench("import", path, "--doctype", "Customer", "--workers", "2", "--batch-size", "25")

	assert out.exit_code == 2, out.output  # some rows failed
	log = frappe.get_doc("CSV Import Log", frappe.get_all("CSV Import Log", pluck="name")[0])
	assert (log.status, log.total_rows, log.success_count, log.error_count) == (
		"Completed with Errors",
		300,
		299,
		1,
	)
	assert (log.workers_used, log.started_by, log.update_existing) == (2, "Administrator", 0)
	assert [row.row_number for row in log.failed_rows] == [42]
	assert frappe.db.count("Customer", {"customer_name": ("like", "Cli %")}) == 299
	# the same log as Desk's, its file a private File attached to it
	file = frappe.get_all(
		"File",
		filters={"file_url": log.import_file},
		fields=["is_private", "attached_to_doctype", "attached_to_name", "file_name"],
	)
	assert [(f.is_private, f.attached_to_doctype, f.attached_to_name) for f in file] == [
		(1, "CSV Import Log", log.name)
	]
	# (as in v15, a name already taken on disk gets a random suffix)
	assert file[0].file_name.startswith("customers") and file[0].file_name.endswith(".csv")
	# a progress bar, the counts and where the failed rows are
	# (off a terminal, click prints the progress bar's label only)
	assert "Importing into Customer" in out.output
	assert "Completed with Errors: 300 rows, 299 imported, 1 failed (2 workers)" in out.output
	assert f"Failed rows (lines 42) are listed on CSV Import Log {log.name}" in out.output
	assert f"/app/csv-import-log/{log.name}" in out.output
	for worker in workers:
		worker.kill()


def test_import_command_updates_existing_records_and_refuses_a_bad_request(bench, tmp_path):
	make_customer("Cli Known", "Retail", tax_id="OLD")
	frappe.db.commit()
	path = write_csv(
		tmp_path / "update.csv",
		[
			["id", "customer_name", "tax_id"],
			["Cli Known", "Cli Known", "NEW"],
			["Cli Fresh", "Cli Fresh", "T1"],
		],
	)
	workers = [start_worker("long", burst=False)]
	out = bench("import", path, "--doctype", "Customer", "--update")
	assert out.exit_code == 0, out.output
	assert "Success: 2 rows, 2 imported, 0 failed (1 worker)" in out.output
	assert frappe.db.get_value("Customer", "Cli Known", "tax_id") == "NEW"
	assert frappe.db.get_value("Customer", "Cli Fresh", "tax_id") == "T1"
	for worker in workers:
		worker.kill()

	logs = frappe.db.count("CSV Import Log")
	out = bench("import", path, "--doctype", "Has Role")  # a core DocType: never imported
	assert out.exit_code == 1 and "Not imported: Importing Has Role is not allowed" in out.output
	out = bench("import", write_csv(tmp_path / "notes.txt", [["x"]]), "--doctype", "Customer")
	assert out.exit_code == 1 and "Only CSV files and Excel workbooks" in out.output
	out = bench("import", path, "--doctype", "Customer", "--workers", "0")
	assert out.exit_code == 2  # click's usage error
	assert frappe.db.count("CSV Import Log") == logs  # nothing left behind


def test_import_command_without_waiting_queues_the_import(bench, tmp_path, drain):
	path = write_csv(tmp_path / "c.csv", [HEADER, ["Cli Later", "Retail", "Europe", "Company"]])
	out = bench("import", path, "--doctype", "Customer", "--no-wait")
	assert out.exit_code == 0 and "Queued" in out.output, out.output
	name = frappe.get_all("CSV Import Log", pluck="name")[0]
	assert frappe.db.get_value("CSV Import Log", name, "status") == "Queued"
	drain()
	assert frappe.db.get_value("CSV Import Log", name, "status") == "Success"
