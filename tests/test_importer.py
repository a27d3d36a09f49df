"""Example 3 + workflow 7: CSV import with savepoints, progress, resume and RQ callbacks."""

import os
import signal
import time
from pathlib import Path

import frappe
import psutil
import pytest
from conftest import NO_ERPNEXT, call_endpoint, make_user, start_worker
from support import _sites_path
from user_jobs_helpers import (
	customer_masters,
	make_customer,
	messages,
	read_csv_file,
	upload_csv,
	upload_xlsx,
)

from myapp.importer import import_job_id, on_import_failure, on_import_success
from myapp.utils.jobs import is_claimed

# ERPNext DocTypes throughout: skipped on a bench site without ERPNext (see conftest.erpnext)
pytestmark = pytest.mark.usefixtures("erpnext")

HEADER = ["customer_name", "customer_group", "territory", "customer_type"]


@pytest.fixture(autouse=True)
def masters(erpnext):
	customer_masters()


def good(i):
	return [f"Imported {i:05d}", "Retail", "Europe", "Company"]


def start(file_url, user=None, update_existing=0, batch_size=None):
	response = call_endpoint(
		"myapp.api.start_csv_import",
		user=user,
		file_url=file_url,
		doctype="Customer",
		update_existing=update_existing,
	)
	if batch_size:
		frappe.db.set_value("CSV Import Log", response["import_log"], "batch_size", batch_size)
	frappe.db.commit()
	return response["import_log"]


def log_of(name):
	return frappe.get_doc("CSV Import Log", name)


def imported_names():
	return sorted(frappe.get_all("Customer", filters={"customer_name": ("like", "Imported%")}, pluck="name"))


def test_bad_rows_in_the_middle_are_rolled_back_alone_and_reported_with_their_line(
	drain, realtime_events, emails
):
	user = make_user("importer@myapp.test", ["Sales Master Manager"])
	rows = [HEADER]
	rows += [good(i) for i in range(1, 4)]  # lines 2-4
	rows.append(["Bad Type", "Retail", "Europe", "Robot"])  # line 5: not a customer type
	rows.append(["Multi\nline name", "Retail", "Europe", "Company"])  # lines 6-7: one record
	rows.append(["Bad Group", "No Such Group", "Europe", "Company"])  # line 8: broken link
	rows += [good(i) for i in range(4, 7)]  # lines 9-11
	file_url = upload_csv("customers.csv", rows, owner=user)

	name = start(file_url, user=user, batch_size=2)
	assert log_of(name).status == "Queued"
	drain()

	log = log_of(name)
	assert (log.status, log.total_rows, log.processed_rows) == ("Completed with Errors", 9, 9)
	assert (log.success_count, log.error_count) == (7, 2)
	failed = {row.row_number: row.error for row in log.failed_rows}
	assert sorted(failed) == [5, 8]
	# Frappe's own messages (v15.74 quotes the value: Customer Type cannot be "Robot")
	assert failed[5].startswith("Customer Type cannot be") and "Robot" in failed[5]
	assert failed[8].startswith("Could not find Customer Group: No Such Group")
	assert imported_names() == [f"Imported {i:05d}" for i in range(1, 7)]
	assert frappe.db.exists("Customer", "Multi\nline name")
	assert not frappe.db.exists("Customer", "Bad Type") and not frappe.db.exists("Customer", "Bad Group")
	assert log.started_by == user and log.finished_at

	# progress on the log's form: every 2 rows, in order, ending at 100
	percents = [
		e["message"]["percent"]
		for e in realtime_events("progress")
		if e["room"] == f"doc:CSV Import Log/{name}"
	]
	assert percents == sorted(percents) and percents[-1] == 100 and len(percents) == 5
	# the user is told (orange: some rows failed) and gets an email
	assert len(messages(realtime_events, user, "orange")) == 1
	assert [e.recipients for e in emails(reference_doctype="CSV Import Log", reference_name=name)] == [[user]]

	# Download Failed Rows: those rows as they were, plus an Error column
	download = call_endpoint("myapp.api.download_failed_rows", user=user, import_log=name)
	_raw, failed = read_csv_file(download["file_url"])
	assert failed[0] == [*HEADER, "Error"]
	assert [row[:4] for row in failed[1:]] == [rows[4], rows[6]]
	assert failed[1][4].startswith("Line 5: Customer Type cannot be")


@pytest.fixture
def missing_customer_group():
	"""A Customer Group that does not exist until the test creates it, and is gone afterwards (a
	real site keeps master data between runs)."""
	name = "Commercial Plus"

	def remove():
		if frappe.db.exists("Customer Group", name):
			frappe.db.delete("Customer", {"customer_group": name})
			frappe.delete_doc("Customer Group", name, ignore_permissions=True, force=True)
			frappe.db.commit()

	remove()
	yield name
	remove()


def test_retry_failed_rows_after_fixing_the_cause(drain, missing_customer_group):
	rows = [HEADER, good(1), ["Waiting", missing_customer_group, "Europe", "Company"], good(2)]
	name = start(upload_csv("customers.csv", rows))
	drain()
	assert log_of(name).status == "Completed with Errors"

	frappe.get_doc(
		{
			"doctype": "Customer Group",
			"customer_group_name": missing_customer_group,
			"parent_customer_group": "All Customer Groups",
		}
	).insert()
	call_endpoint("myapp.api.start_import", import_log=name, retry_failed_rows=1)
	drain()
	log = log_of(name)
	assert (log.status, log.success_count, log.error_count, log.failed_rows) == ("Success", 3, 0, [])
	assert frappe.db.get_value("Customer", "Waiting", "customer_group") == missing_customer_group
	# nothing imported twice
	assert imported_names() == ["Imported 00001", "Imported 00002"]
	with pytest.raises(frappe.ValidationError):
		call_endpoint("myapp.api.start_import", import_log=name)


@pytest.mark.parametrize(
	("rows", "message"),
	[
		(
			[["customer_name", "customer_group", "territory", "colour"], good(1)],
			"Unknown columns for Customer: colour",
		),
		(
			# the mandatory columns come from the meta: only Customer Name in ERPNext 15
			[["customer_group", "territory"], ["Retail", "Europe"]],
			"Mandatory columns missing for Customer: Customer Name",
		),
		([["customer_name", "Customer Name", "customer_group", "territory"], good(1)], "more than once"),
		([HEADER], "no data rows"),
	],
)
def test_a_wrong_header_is_an_error_before_any_row(drain, realtime_events, rows, message):
	# labels work as column titles too: "Customer Group" for customer_group
	name = start(upload_csv("customers.csv", rows))
	drain()
	log = log_of(name)
	assert log.status == "Error" and message in log.error_message
	assert (log.processed_rows, log.success_count) == (0, 0)
	assert frappe.get_all("Customer") == []
	assert len(messages(realtime_events, "Administrator", "red")) == 1


def test_a_non_utf8_file_is_refused_even_when_the_bad_byte_is_far_down(drain):
	text = "\n".join(
		[",".join(HEADER)] + [",".join(good(i)) for i in range(300)] + ["Zoë,Retail,Europe,Company"]
	)
	name = start(upload_csv("latin1.csv", text.encode("latin-1")))
	drain()
	log = log_of(name)
	assert log.status == "Error" and "not UTF-8" in log.error_message
	assert frappe.get_all("Customer") == []


def test_utf8_with_bom_labels_and_formula_apostrophes(drain):
	text = "\ufeffCustomer Name,customer_group,territory,customer_details\r\nZoë,Retail,Europe,'=1+2\r\n"
	name = start(upload_csv("bom.csv", text))
	drain()
	assert log_of(name).status == "Success"
	# our exports write "'=..." for a formula-looking text: it comes back as the text
	assert frappe.db.get_value("Customer", "Zoë", "customer_details") == "=1+2"


def test_update_existing_matches_by_name_or_id_and_inserts_the_rest(drain):
	make_customer("Known", "Retail", tax_id="OLD")
	make_customer("Other", "Retail", tax_id="KEEP")
	frappe.db.commit()
	rows = [
		["id", "customer_name", "customer_group", "territory", "tax_id"],
		["Known", "Known", "Wholesale", "Europe", "NEW"],
		["Other", "", "", "", ""],  # blank cells change nothing
		["Fresh", "Fresh Co", "Retail", "Europe", "T1"],  # unknown id: inserted under that name
	]
	name = start(upload_csv("update.csv", rows), update_existing=1)
	drain()
	assert log_of(name).status == "Success"
	assert frappe.db.get_value("Customer", "Known", ["customer_group", "tax_id"]) == ("Wholesale", "NEW")
	assert frappe.db.get_value("Customer", "Other", ["customer_group", "tax_id"]) == ("Retail", "KEEP")
	assert frappe.db.get_value("Customer", "Fresh", "customer_name") == "Fresh Co"
	assert frappe.db.count("Customer") == 3

	# without update_existing the same name is a duplicate: that row fails, the others land
	name = start(upload_csv("again.csv", [["name", *HEADER], ["Known", *good(9)], ["New One", *good(10)]]))
	drain()
	log = log_of(name)
	assert (log.status, log.success_count, log.error_count) == ("Completed with Errors", 1, 1)


def test_import_needs_the_import_right_and_create_permission():
	"""As v15's Data Import offers it: the import right on the DocType (ERPNext 15: Sales Master
	Manager on Customer), or a System Manager on a DocType that allows import; and create."""
	reader = make_user("reader@myapp.test", ["Sales Manager"])  # read only on Customer
	seller = make_user("seller@myapp.test", ["Sales User"])  # create + write, but no import right
	master = make_user("master@myapp.test", ["Sales Master Manager"])  # import + create
	frappe.db.commit()
	for user in (reader, seller):
		file_url = upload_csv(f"{user}.csv", [HEADER, good(1)], owner=user)
		with pytest.raises(frappe.PermissionError):
			call_endpoint("myapp.api.start_csv_import", user=user, file_url=file_url, doctype="Customer")
	with pytest.raises(frappe.PermissionError):
		call_endpoint("myapp.api.start_csv_import", user="Guest", file_url=file_url, doctype="Customer")
	assert frappe.get_all("CSV Import Log") == []
	master_file = upload_csv("m.csv", [HEADER, good(2)], owner=master)
	assert call_endpoint("myapp.api.start_csv_import", user=master, file_url=master_file, doctype="Customer")


def test_core_doctypes_cannot_be_imported_even_by_a_system_manager():
	file_url = upload_csv("roles.csv", [["role_name"], ["Importer Role"]])
	for doctype in ("DocType", "Custom Field", "Has Role"):
		with pytest.raises(frappe.PermissionError):
			call_endpoint("myapp.api.start_csv_import", file_url=file_url, doctype=doctype)
	assert frappe.get_all("CSV Import Log") == []


@pytest.fixture
def restricted_field():
	"""A Customer field of permission level 2, which no role may write (as an admin adds one)."""
	from frappe.custom.doctype.custom_field.custom_field import create_custom_fields

	create_custom_fields(
		{
			"Customer": [
				{
					"fieldname": "custom_credit_note",
					"label": "Credit Note",
					"fieldtype": "Data",
					"permlevel": 2,
					"insert_after": "customer_name",
				}
			]
		},
		ignore_validate=True,
	)
	frappe.db.commit()
	yield "custom_credit_note"
	frappe.delete_doc("Custom Field", "Customer-custom_credit_note", ignore_permissions=True, force=True)
	frappe.db.commit()


def test_a_column_the_user_may_not_write_is_refused_before_any_row(drain, restricted_field):
	"""v15 silently resets a value of a permlevel the user cannot write (the row would count as
	imported without it): the header check refuses the column instead."""
	master = make_user("master@myapp.test", ["Sales Master Manager"])
	frappe.db.commit()
	file_url = upload_csv("c.csv", [[*HEADER, restricted_field], [*good(1), "owed"]], owner=master)
	name = start(file_url, user=master)
	drain()
	log = log_of(name)
	assert log.status == "Error"
	assert "You may not set these columns of Customer: Credit Note" in log.error_message
	assert imported_names() == []


def test_callbacks_update_the_log_with_no_site_context(drain, sites_path, monkeypatch):
	"""The RQ callbacks get only the job: they open the site themselves (as in Frappe, where
	execute_job has destroyed the context before RQ calls them). A worker's cwd is the sites folder."""
	monkeypatch.chdir(sites_path)
	from frappe.utils.background_jobs import create_job_id, get_redis_conn
	from rq.job import Job

	name = start(upload_csv("c.csv", [HEADER, good(1)]))
	job_id = import_job_id("Customer", log_of(name).import_file)
	job = Job.fetch(create_job_id(job_id), connection=get_redis_conn())
	site = frappe.local.site
	frappe.db.commit()
	frappe.destroy()
	try:
		assert getattr(frappe.local, "site", None) is None
		on_import_failure(job, job.connection, RuntimeError, RuntimeError("disk <b>full</b>"), None)
		assert getattr(frappe.local, "site", None) is None  # it cleaned up after itself
	finally:
		from conftest import connect_site

		connect_site()
	assert frappe.local.site == site
	log = log_of(name)
	assert (log.status, log.error_message) == ("Error", "disk full")
	# the traceback is execute_job's Error Log: the callback writes no second one
	assert frappe.get_all("Error Log", pluck="method") == []

	frappe.db.commit()
	frappe.destroy()
	try:
		on_import_success(job, job.connection, {"status": "Success"})
	finally:
		connect_site()
	assert log_of(name).status == "Success"


def test_an_abandoned_job_callback_inside_a_request_reuses_its_context_and_leaves_it_open(monkeypatch):
	"""rq 1.15 runs an abandoned job's failure callback inside StartedJobRegistry.cleanup(), which
	v15's RQ Job list calls in a web request: the request's context, connection and user stay."""
	from frappe.utils.background_jobs import create_job_id, get_redis_conn
	from rq.exceptions import AbandonedJobError
	from rq.job import Job

	name = start(upload_csv("c.csv", [HEADER, good(1)]))
	job = Job.fetch(
		create_job_id(import_job_id("Customer", log_of(name).import_file)), connection=get_redis_conn()
	)
	frappe.db.commit()
	viewer = make_user("viewer@myapp.test", roles=["System Manager"])
	frappe.set_user(viewer)
	connection, site = frappe.db, frappe.local.site
	frappe.local.flags.commit = False
	frappe.db.sql("select 1")

	on_import_failure(job, job.connection, AbandonedJobError, AbandonedJobError(), None)

	assert (frappe.local.site, frappe.db, frappe.session.user) == (site, connection, viewer)
	assert frappe.local.flags.commit  # the request (even a GET) commits what the callback wrote
	log = log_of(name)
	assert log.status == "Error" and "Start Import resumes" in log.error_message
	assert frappe.get_all("Error Log", filters={"reference_name": name}, pluck="method") == [
		f"CSV Import {name}: worker stopped"
	]
	frappe.set_user("Administrator")


def test_an_abandoned_job_callback_inside_another_sites_request_leaves_that_site_alone(
	site, site_without_erpnext
):
	"""The failed job registry is bench-wide: an RQ Job list of site B makes RQ fail site A's
	abandoned job. The callback runs for A on a thread of its own; B's context stays as it was."""
	from conftest import connect_site
	from frappe.utils.background_jobs import create_job_id, get_redis_conn
	from rq.exceptions import AbandonedJobError
	from rq.job import Job

	connect_site()  # site A, where the import was started
	customer_masters()
	name = start(upload_csv("c.csv", [HEADER, good(1)]))
	job = Job.fetch(
		create_job_id(import_job_id("Customer", log_of(name).import_file)), connection=get_redis_conn()
	)
	frappe.db.commit()
	frappe.destroy()
	# one bench, one sites folder: the testbed keeps site B in a folder of its own, so A is linked in
	other_sites = Path(_sites_path(NO_ERPNEXT))
	(other_sites / site).symlink_to(Path(_sites_path()) / site)
	try:
		frappe.init(site_without_erpnext, sites_path=str(other_sites), force=True)
		frappe.connect()
		connection = frappe.db

		on_import_failure(job, job.connection, AbandonedJobError, AbandonedJobError(), None)

		assert (frappe.local.site, frappe.db) == (site_without_erpnext, connection)
	finally:
		(other_sites / site).unlink()
	connect_site()
	log = log_of(name)
	assert log.status == "Error" and "Start Import resumes" in log.error_message


def test_a_failing_job_ends_in_error_through_on_failure_and_releases_its_claim(drain, realtime_events):
	name = start(upload_csv("c.csv", [HEADER, good(1)]))
	log = log_of(name)
	job_id = import_job_id("Customer", log.import_file)
	assert is_claimed(job_id)
	# the file vanishes from disk before the worker gets to it
	from user_jobs_helpers import file_path

	os.remove(file_path(log.import_file))
	drain()
	log = log_of(name)
	assert log.status == "Error" and "No such file" in log.error_message
	# one failure, one Error Log: execute_job's, titled with the job's method
	assert frappe.get_all("Error Log", pluck="method") == ["myapp.importer.run_csv_import"]
	assert len(messages(realtime_events, "Administrator", "red")) == 1
	assert not is_claimed(job_id)


def test_a_killed_worker_resumes_after_the_last_committed_row_and_imports_no_row_twice(drain):
	total = 4000
	name = start(upload_csv("big.csv", [HEADER] + [good(i) for i in range(total)]), batch_size=50)
	worker = start_worker("long", burst=False)
	try:
		deadline = time.monotonic() + 120
		while time.monotonic() < deadline:
			frappe.db.rollback()  # a fresh snapshot of what the job committed
			if frappe.db.get_value("CSV Import Log", name, "processed_rows") >= 200:
				break
			time.sleep(0.05)
		# the work horse (the forked child running the job) dies as under the OOM killer
		horses = psutil.Process(worker.pid).children()
		assert horses, "the job finished before it could be killed"
		for horse in horses:
			os.kill(horse.pid, signal.SIGKILL)
		time.sleep(1)
	finally:
		worker.send_signal(signal.SIGTERM)
		worker.wait(timeout=30)

	frappe.db.rollback()
	log = log_of(name)
	processed = log.processed_rows
	assert log.status == "Running" and 200 <= processed < total
	# exactly the committed rows are in: the batch being imported was rolled back with the horse
	assert len(imported_names()) == processed == log.success_count

	call_endpoint("myapp.api.start_import", import_log=name)
	drain()
	log = log_of(name)
	assert (log.status, log.processed_rows, log.success_count, log.error_count) == (
		"Success",
		total,
		total,
		0,
	)
	assert imported_names() == [f"Imported {i:05d}" for i in range(total)]  # none twice (no " - 1")


def test_new_rows_refresh_open_list_views_once_per_batch_and_updated_rows_notify_their_form(
	drain, realtime_events
):
	make_customer("Known", "Retail", tax_id="OLD")
	frappe.db.commit()
	before_import = len(realtime_events())  # Known's own insert events
	rows = [["id", *HEADER]]
	rows += [["", *good(i)] for i in range(1, 6)]  # lines 2-6
	rows.append(["", "Bad Type", "Retail", "Europe", "Robot"])  # line 7: fails alone
	rows.append(["Known", "Known", "Wholesale", "Europe", "Company"])  # line 8: an update
	name = start(upload_csv("customers.csv", rows), update_existing=1, batch_size=3)
	drain()
	log = log_of(name)
	assert (log.success_count, log.error_count) == (6, 1)

	def customer_events(event):
		return [
			e["message"]["name"]
			for e in realtime_events()[before_import:]
			if e["event"] == event and e["message"]["doctype"] == "Customer"
		]

	# one list refresh per committed batch that inserted rows, naming its last new record
	# (batches: lines 2-4, 5-7, 8), instead of two events per inserted row
	assert customer_events("list_update") == ["Imported 00003", "Imported 00005", "Known"]
	# an updated record may be open in someone's form: it still gets its doc_update
	assert customer_events("doc_update") == ["Known"]


# Excel workbooks (.xlsx): the same checks and the same line numbers (the sheet's row numbers)
BAD_ROWS_FILE = [
	HEADER,
	good(1),  # line 2
	good(2),
	["Bad Type", "Retail", "Europe", "Robot"],  # line 4: not a customer type
	good(3),
	["Bad Group", "No Such Group", "Europe", "Company"],  # line 6: broken link
	good(4),
	good(5),
]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_an_excel_workbook_reports_the_same_failed_lines_as_the_same_csv(drain, kind):
	upload = upload_xlsx if kind == "xlsx" else upload_csv
	name = start(upload(f"customers.{kind}", BAD_ROWS_FILE), batch_size=3)
	drain()
	log = log_of(name)
	assert (log.status, log.total_rows, log.processed_rows) == ("Completed with Errors", 7, 7)
	assert (log.success_count, log.error_count) == (5, 2)
	failed = {row.row_number: row.error for row in log.failed_rows}
	assert sorted(failed) == [4, 6]
	assert failed[4].startswith("Customer Type cannot be") and "Robot" in failed[4]
	assert failed[6].startswith("Could not find Customer Group: No Such Group")
	assert imported_names() == [f"Imported {i:05d}" for i in range(1, 6)]

	# Download Failed Rows: those rows as they were in the sheet, plus an Error column
	_raw, rows = read_csv_file(call_endpoint("myapp.api.download_failed_rows", import_log=name)["file_url"])
	assert [row[:4] for row in rows[1:]] == [BAD_ROWS_FILE[3], BAD_ROWS_FILE[5]]
	assert rows[2][4].startswith("Line 6: Could not find Customer Group")


def test_an_excel_workbook_numbers_rows_by_sheet_row_and_reads_typed_cells(drain):
	rows = [
		[*HEADER, "tax_id", "customer_details"],
		[*good(1), 12345, "Multi\nline"],  # row 2: a number; a cell of two lines is one sheet row
		[None, None, None, None],  # row 3: blank, skipped (not a data row)
		[*good(2), 1.5, "'=1+2"],  # row 4
		["Bad Type", "Retail", "Europe", "Robot", None, None],  # row 5
		[*good(3), None, None, None, None],  # row 6: formatted empty cells past the data
	]
	name = start(upload_xlsx("typed.xlsx", rows))
	drain()
	log = log_of(name)
	assert (log.total_rows, log.success_count, log.error_count) == (4, 3, 1)
	assert [row.row_number for row in log.failed_rows] == [5]
	assert frappe.db.get_value("Customer", "Imported 00001", ["tax_id", "customer_details"]) == (
		"12345",
		"Multi\nline",
	)
	assert frappe.db.get_value("Customer", "Imported 00002", ["tax_id", "customer_details"]) == (
		"1.5",
		"=1+2",
	)


def test_a_file_that_is_not_an_excel_workbook_is_an_error_before_any_row(drain):
	name = start(upload_csv("broken.xlsx", b"PK\x03\x04 not really a workbook"))
	drain()
	log = log_of(name)
	assert log.status == "Error" and "not a valid Excel workbook" in log.error_message
	assert frappe.get_all("Customer") == []
	with pytest.raises(frappe.ValidationError):
		start(upload_csv("old.xls", b"\xd0\xcf\x11\xe0"))


@pytest.mark.no_site
def test_excel_cells_become_the_text_a_csv_would_hold():
	import datetime

	from myapp.importer import excel_text

	assert [excel_text(v) for v in (None, True, False, 7, 7.0, 0.25, "x")] == [
		"",
		"1",
		"0",
		"7",
		"7",
		"0.25",
		"x",
	]
	assert excel_text(datetime.datetime(2025, 1, 31)) == "2025-01-31"
	assert excel_text(datetime.datetime(2025, 1, 31, 9, 30)) == "2025-01-31 09:30:00"
	assert excel_text(datetime.date(2025, 1, 31)) == "2025-01-31"
	assert excel_text(datetime.time(9, 30)) == "09:30:00"


# several workers: rows that depend on earlier rows keep their order
@pytest.mark.parametrize(
	("rows", "in_file_order", "workers_used", "note"),
	[
		([[*HEADER], *[good(i) for i in range(8)]], 0, 2, None),
		([[*HEADER], *[good(i) for i in range(8)]], 1, 1, "Import in file order was chosen"),
		(
			# an insert and then an update of the same record: the update must come second
			[["id", *HEADER], *[["", *good(i)] for i in range(6)], ["Twice", *good(6)], ["twice", *good(7)]],
			0,
			1,
			"appears more than once in the file (line 9)",
		),
	],
)
def test_rows_that_depend_on_earlier_rows_are_imported_in_file_order_on_one_worker(
	drain, rows, in_file_order, workers_used, note
):
	name = start(upload_csv("order.csv", rows), update_existing=1, batch_size=2)
	frappe.db.set_value("CSV Import Log", name, {"workers": 2, "in_file_order": in_file_order})
	frappe.db.commit()
	drain()
	log = log_of(name)
	assert (log.status, log.success_count, log.workers_used) == ("Success", 8, workers_used)
	assert (note or "") in (log.order_note or "") and bool(note) == bool(log.order_note)
	assert frappe.get_all("CSV Import Chunk") == []  # gone once the import finished
