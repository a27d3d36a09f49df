"""Workflow 4: chunked processing of draft Sales Invoices (myapp.invoices) with several real workers.

What a batch does to an invoice is observed in the database itself: a test trigger on
`tabSales Invoice` fires when a batch marks an invoice processed. It writes
- `myapp_test_invoice_attempts` (MyISAM: kept even when the batch rolls back): every attempt;
- `myapp_test_invoice_processed` (InnoDB: commits or rolls back with the batch): the per-invoice
  side effect that must exist exactly once per invoice;
and fails the invoice the control table names (the extension point raising, as a database error).
Workers are real processes; a batch is cut in half by freezing its work horse (SIGSTOP) while
it holds uncommitted work, then killing it (SIGKILL) or letting it go on (SIGCONT).
"""

import os
import signal
import subprocess
import time

import frappe
import psutil
import pytest
from conftest import call_endpoint, make_user, pending_jobs, start_worker
from frappe.utils import now, nowdate

from myapp.invoices import RUN_DOCTYPE, START_JOB_ID, start_run
from myapp.utils.jobs import JobAlreadyQueuedError

# ERPNext DocTypes throughout: skipped on a bench site without ERPNext (see conftest.erpnext)
pytestmark = pytest.mark.usefixtures("erpnext")

ATTEMPTS = "myapp_test_invoice_attempts"
PROCESSED = "myapp_test_invoice_processed"
CONTROL = "myapp_test_invoice_control"
TRIGGER = "myapp_test_invoice_processing"
FAILURE_MESSAGE = "test: this invoice cannot be processed"
ACTIVE = ("Queued", "Running")


@pytest.fixture
def invoice_trigger(erpnext):
	"""Creates the trigger and its tables; `configure(fail=name)` makes that invoice fail,
	`configure(deadlock=name)` makes processing it raise a deadlock once."""
	drop_trigger()
	frappe.db.sql_ddl(
		f"create table {ATTEMPTS} (invoice varchar(140), conn bigint, at datetime(6)) engine=MyISAM"
	)
	frappe.db.sql_ddl(f"create table {PROCESSED} (invoice varchar(140), conn bigint) engine=InnoDB")
	frappe.db.sql_ddl(f"create table {CONTROL} (fail varchar(140), deadlock varchar(140)) engine=MyISAM")
	frappe.db.sql(f"insert into {CONTROL} (fail, deadlock) values ('', '')")
	frappe.db.sql_ddl(
		f"""create trigger {TRIGGER} before update on `tabSales Invoice` for each row
		begin
			if new.custom_processed = 1 then
				insert into {ATTEMPTS} values (new.name, connection_id(), now(6));
				if new.name = (select deadlock from {CONTROL}) then
					-- once: the server's own deadlock error (1213), as InnoDB raises it
					update {CONTROL} set deadlock = '';
					signal sqlstate '40001' set mysql_errno = 1213, message_text = 'Deadlock found when trying to get lock';
				end if;
				if new.name = (select fail from {CONTROL}) then
					signal sqlstate '45000' set message_text = '{FAILURE_MESSAGE}';
				end if;
				insert into {PROCESSED} values (new.name, connection_id());
			end if;
		end"""
	)
	frappe.db.commit()

	def configure(**values):
		for column, value in values.items():
			frappe.db.sql(f"update {CONTROL} set `{column}` = %s", value)
		frappe.db.commit()

	yield configure
	frappe.db.rollback()
	drop_trigger()


def drop_trigger():
	frappe.db.sql_ddl(f"drop trigger if exists {TRIGGER}")
	for table in (ATTEMPTS, PROCESSED, CONTROL):
		frappe.db.sql_ddl(f"drop table if exists {table}")


def make_invoices(count, prefix="TEST-SINV-", docstatus=0):
	"""`count` invoices straight into the table, as a data migration would leave them."""
	timestamp = now()
	status = "Draft" if docstatus == 0 else "Unpaid"
	fields = ["name", "creation", "modified", "owner", "modified_by", "docstatus", "customer", "posting_date"]
	fields += ["status", "grand_total", "outstanding_amount", "custom_processed"]
	rows = [
		(
			f"{prefix}{i:05d}",
			timestamp,
			timestamp,
			"Administrator",
			"Administrator",
			docstatus,
			"Test Customer",
		)
		+ (nowdate(), status, 100, 100, 0)
		for i in range(count)
	]
	frappe.db.bulk_insert("Sales Invoice", fields, rows)
	frappe.db.commit()
	return [row[0] for row in rows]


def accounts_manager():
	user = make_user("accounts.manager@myapp.test", ["Accounts Manager"])
	frappe.db.commit()
	return user


def start(user, **kwargs):
	result = call_endpoint("myapp.api.start_invoice_processing", user=user, **kwargs)
	frappe.db.commit()  # as the request would: the first job is enqueued on commit
	return result


def run_doc(name):
	frappe.db.rollback()  # a fresh snapshot: the workers commit in other connections
	return frappe.get_doc(RUN_DOCTYPE, name)


def counts(table):
	frappe.db.rollback()
	return dict(frappe.db.sql(f"select invoice, count(*) from {table} group by invoice"))


def invoice_rows(names):
	frappe.db.rollback()
	return frappe.get_all(
		"Sales Invoice",
		filters={"name": ("in", names)},
		fields=["name", "custom_processed", "custom_processed_on", "custom_processing_run"],
	)


def stop_workers(processes):
	"""RQ's warm shutdown (the current job finishes first); a worker that does not stop is killed."""
	for process in processes:
		if process.poll() is None:
			process.send_signal(signal.SIGTERM)
	output = []
	for process in processes:
		try:
			out, _ = process.communicate(timeout=60)
		except subprocess.TimeoutExpired:
			for child in psutil.Process(process.pid).children(recursive=True):
				child.kill()
			process.kill()
			out, _ = process.communicate()
		output.append(out)
	return "\n".join(output)


def resume(horses):
	for horse in horses:
		try:
			horse.resume()
		except psutil.NoSuchProcess:
			pass


def freeze_mid_batch(worker, timeout=120):
	"""Suspend the worker's work horse while its batch holds uncommitted processed invoices.
	Returns (horses, invoices committed so far, invoices the frozen batch has done uncommitted)."""
	parent = psutil.Process(worker.pid)
	deadline = time.monotonic() + timeout
	while True:
		assert time.monotonic() < deadline, "the worker never got into a batch"
		assert worker.poll() is None, worker.communicate()[0]
		horses = parent.children(recursive=True)
		if horses and len(counts(ATTEMPTS)) > len(counts(PROCESSED)):
			for horse in horses:
				horse.suspend()
			time.sleep(0.5)  # let a statement already sent reach the database before looking again
			attempted, committed = counts(ATTEMPTS), counts(PROCESSED)
			if len(attempted) > len(committed):
				# frozen with uncommitted work: the batch is certainly cut in half
				return horses, len(committed), set(attempted) - set(committed)
			resume(horses)
		time.sleep(0.05)


def kill_worker_mid_batch(worker):
	horses, committed, _uncommitted = freeze_mid_batch(worker)
	# the parent first, or it would notice its dead horse and fail the job itself
	psutil.Process(worker.pid).kill()
	for horse in horses:
		horse.kill()
	worker.wait(timeout=30)
	for horse in horses:
		horse.wait(timeout=30)
	return committed


def wait_for(condition, message, timeout=300):
	deadline = time.monotonic() + timeout
	while not condition():
		assert time.monotonic() < deadline, message
		time.sleep(0.2)


def forget_killed_worker(pid):
	"""What RQ does on its own later: drop the dead worker (its heartbeat TTL) and fail its job as
	abandoned (the job timeout), which runs the job's failure callback."""
	from frappe.utils.background_jobs import get_queue, get_redis_conn
	from rq import Worker

	for worker in Worker.all(connection=get_redis_conn()):
		if worker.pid == pid:
			worker.register_death()
	get_queue("long").started_job_registry.cleanup(time.time() + 24 * 3600)


def user_notices(realtime_events, user):
	return [e["message"] for e in realtime_events("msgprint") if e["room"] == f"user:{user}"]


def test_three_workers_process_each_of_2000_invoices_exactly_once(invoice_trigger, realtime_events):
	drafts = make_invoices(2000)
	submitted = make_invoices(30, prefix="TEST-SUBMITTED-", docstatus=1)
	user = accounts_manager()

	result = start(user, batch_size=100)
	run = result["run"]
	assert (run_doc(run).status, run_doc(run).total) == ("Queued", 2000)
	workers = [start_worker("long", burst=False)]
	horses = []
	try:
		# one batch stops half-way holding its claim while two more workers take every other invoice
		horses, _committed, held = freeze_mid_batch(workers[0])
		workers += [start_worker("long", burst=False) for _ in range(2)]
		wait_for(lambda: len(counts(PROCESSED)) == 1900, "the other workers did not process the rest")
		assert run_doc(run).status == "Running"
		# the frozen batch's claim is intact: its 100 invoices wait for it, none taken by another batch
		waiting = set(drafts) - set(counts(PROCESSED))
		assert len(waiting) == 100 and held <= waiting
		resume(horses)
		wait_for(
			lambda: run_doc(run).status not in ACTIVE and not pending_jobs(("long",)), "run not finished"
		)
	finally:
		resume(horses)
		output = stop_workers(workers)

	doc = run_doc(run)
	assert doc.status == "Completed", output
	assert (doc.total, doc.processed, doc.errors) == (2000, 2000, 0)
	# one job per batch, never per invoice: 20 full batches, each recorded with its job id
	job_lines = doc.job_ids.splitlines()
	assert doc.batches == len(job_lines) == 20
	assert all(line.endswith(": 100 processed, 0 errors") for line in job_lines)
	assert job_lines.count(f"{START_JOB_ID}: 100 processed, 0 errors") == 1
	assert doc.started_by == user and doc.started_at and doc.finished_at

	processed = counts(PROCESSED)
	assert len(processed) == 2000 and set(processed.values()) == {1}
	assert set(counts(ATTEMPTS).values()) == {1}
	rows = invoice_rows(drafts)
	assert all(row.custom_processed == 1 and row.custom_processing_run == run for row in rows)
	assert all(row.custom_processed_on for row in rows)
	for row in invoice_rows(submitted):
		assert (row.custom_processed, row.custom_processing_run) == (0, None)
	assert not frappe.get_all("Error Log", pluck="name")

	room = f"doc:{RUN_DOCTYPE}/{run}"
	progress = [e["message"]["percent"] for e in realtime_events("progress") if e["room"] == room]
	assert progress and progress[-1] == 100 and len(progress) <= 11
	notices = user_notices(realtime_events, user)
	assert len(notices) == 1 and notices[0]["indicator"] == "green" and run in notices[0]["message"]


def test_a_failing_invoice_is_logged_and_skipped_once_per_run(invoice_trigger, drain, realtime_events):
	drafts = make_invoices(25)
	failing = drafts[13]  # in the second batch
	invoice_trigger(fail=failing)
	user = accounts_manager()

	run = start(user, batch_size=10)["run"]
	drain()

	doc = run_doc(run)
	assert doc.status == "Completed with Errors"
	assert (doc.total, doc.processed, doc.errors, doc.batches) == (25, 24, 1, 3)
	assert doc.first_errors.startswith(f"{failing}: ") and FAILURE_MESSAGE in doc.first_errors
	assert counts(ATTEMPTS)[failing] == 1  # never retried within the run
	processed = counts(PROCESSED)
	assert failing not in processed and len(processed) == 24 and set(processed.values()) == {1}
	failed_row = next(row for row in invoice_rows(drafts) if row.name == failing)
	assert (failed_row.custom_processed, failed_row.custom_processing_run) == (0, run)

	logs = frappe.get_all("Error Log", fields=["method", "error", "reference_doctype", "reference_name"])
	assert len(logs) == 1
	assert (logs[0].reference_doctype, logs[0].reference_name) == ("Sales Invoice", failing)
	assert logs[0].method == f"Invoice processing: {failing} failed in run {run}"
	assert FAILURE_MESSAGE in logs[0].error
	notices = user_notices(realtime_events, user)
	assert len(notices) == 1 and notices[0]["indicator"] == "orange"

	# a new run tries the failed invoice once more, and only it
	second = start(user)["run"]
	assert second != run and run_doc(second).total == 1
	drain()
	doc = run_doc(second)
	assert (doc.status, doc.processed, doc.errors) == ("Completed with Errors", 0, 1)
	assert counts(ATTEMPTS)[failing] == 2
	assert len(frappe.get_all("Error Log")) == 2

	# once the cause is gone, the next run processes it
	invoice_trigger(fail="")
	third = start(user)["run"]
	drain()
	assert (run_doc(third).status, run_doc(third).processed) == ("Completed", 1)
	assert counts(PROCESSED)[failing] == 1


def test_a_deadlocked_batch_is_rolled_back_and_queued_again(invoice_trigger, drain):
	drafts = make_invoices(25)
	victim = drafts[13]  # in the second batch, after three invoices of it were processed
	invoice_trigger(deadlock=victim)
	user = accounts_manager()

	run = start(user, batch_size=10)["run"]
	drain()

	doc = run_doc(run)
	assert (doc.status, doc.processed, doc.errors) == ("Completed", 25, 0)
	processed = counts(PROCESSED)  # InnoDB: the rolled back batch's rows are gone
	assert len(processed) == 25 and set(processed.values()) == {1}
	assert counts(ATTEMPTS)[victim] == 2  # the batch ran again, under a new job id
	assert frappe.get_all("Error Log") == []


def test_a_killed_worker_loses_only_its_uncommitted_batch_and_the_run_goes_on(invoice_trigger, drain):
	drafts = make_invoices(600)
	user = accounts_manager()
	run = start(user, batch_size=50)["run"]

	worker = start_worker("long", burst=False)
	committed = kill_worker_mid_batch(worker)
	assert 0 <= committed < 600
	assert run_doc(run).processed == committed  # the counters commit with their batch
	forget_killed_worker(worker.pid)

	# the next batch was queued as soon as the killed one had claimed its invoices
	assert run_doc(run).status == "Running"  # an abandoned job does not fail the run
	with pytest.raises(frappe.ValidationError, match="already running"):
		start(user)
	drain()

	doc = run_doc(run)
	assert (doc.status, doc.processed, doc.errors) == ("Completed", 600, 0)
	processed = counts(PROCESSED)
	assert len(processed) == 600 and set(processed.values()) == {1}  # nothing processed twice
	# the killed batch had processed invoices that rolled back and were processed again
	assert sum(counts(ATTEMPTS).values()) > 600
	assert all(row.custom_processed and row.custom_processing_run == run for row in invoice_rows(drafts))


def test_a_run_whose_jobs_are_gone_resumes_where_the_last_commit_left_off(invoice_trigger, drain):
	drafts = make_invoices(400)
	user = accounts_manager()
	run = start(user, batch_size=50)["run"]

	worker = start_worker("long", burst=False)
	committed = kill_worker_mid_batch(worker)
	forget_killed_worker(worker.pid)
	# the queued next batch is lost too (say Redis restarted): nothing would continue the run
	from frappe.utils.background_jobs import get_queue

	get_queue("long").empty()
	assert run_doc(run).status == "Running"

	result = start(user)
	assert result["resumed"] and result["run"] == run
	assert frappe.db.count(RUN_DOCTYPE) == 1
	drain()

	doc = run_doc(run)
	assert (doc.status, doc.processed, doc.errors) == ("Completed", 400, 0)
	assert doc.processed - committed == 400 - committed
	processed = counts(PROCESSED)
	assert len(processed) == 400 and set(processed.values()) == {1}
	assert all(row.custom_processed and row.custom_processing_run == run for row in invoice_rows(drafts))


def test_a_batch_job_that_fails_fails_the_run_and_a_new_run_continues(
	invoice_trigger, drain, realtime_events
):
	drafts = make_invoices(30)
	user = accounts_manager()
	# the batch's bookkeeping fails (not one invoice): the whole batch job fails
	run_trigger = "myapp_test_run_counters"
	frappe.db.sql_ddl(
		f"""create trigger {run_trigger} before update on `tab{RUN_DOCTYPE}` for each row
		begin
			if new.processed != old.processed then
				signal sqlstate '45000' set message_text = 'test: counters are read-only';
			end if;
		end"""
	)
	try:
		run = start(user, batch_size=10)["run"]
		drain()
	finally:
		frappe.db.sql_ddl(f"drop trigger if exists {run_trigger}")

	doc = run_doc(run)
	assert doc.status == "Failed" and "counters are read-only" in doc.failure and doc.finished_at
	assert (doc.processed, doc.batches) == (0, 0)
	assert not counts(PROCESSED)  # the failed batch rolled back; the queued next one did not start work
	assert not any(row.custom_processed for row in invoice_rows(drafts))
	assert frappe.get_all("Error Log", filters={"method": "myapp.tasks.process_invoices_batch"})
	notices = user_notices(realtime_events, user)
	assert len(notices) == 1 and notices[0]["indicator"] == "red" and run in notices[0]["message"]

	# the failed batch is a Failed Job whose Retry starts a new run as its user, not the same batch
	failed_job = frappe.get_all(
		"Failed Job", filters={"method": "myapp.tasks.process_invoices_batch"}, fields=["*"]
	)
	assert len(failed_job) == 1 and failed_job[0].user == user and failed_job[0].attempts == 1
	assert failed_job[0].status == "Open" and "Retry starts a new run" in failed_job[0].retry_note
	result = call_endpoint("myapp.api.retry_failed_job", name=failed_job[0].name)
	frappe.db.commit()
	second = result["run"]
	assert second != run and result["status"] == "Retried"
	assert run_doc(second).started_by == user and run_doc(second).batch_size == 10
	assert second in frappe.db.get_value("Failed Job", failed_job[0].name, "retry_note")
	drain()
	assert (run_doc(second).status, run_doc(second).processed) == ("Completed", 30)
	assert len(counts(PROCESSED)) == 30 and set(counts(PROCESSED).values()) == {1}


def test_the_endpoint_checks_roles_and_method_and_allows_one_run_at_a_time(erpnext):
	make_invoices(5)
	make_invoices(2, prefix="TEST-SUBMITTED-", docstatus=1)
	clerk = make_user("clerk@myapp.test", ["Accounts User"])
	manager = make_user("system.manager@myapp.test", ["System Manager"])
	frappe.db.commit()

	with pytest.raises(frappe.PermissionError):
		call_endpoint("myapp.api.start_invoice_processing", user="Guest")
	with pytest.raises(frappe.PermissionError):
		call_endpoint("myapp.api.start_invoice_processing", user=clerk)
	with pytest.raises(frappe.PermissionError):
		call_endpoint("myapp.api.start_invoice_processing", http_method="GET", user=manager)
	for bad in (0, -5, 6000):
		with pytest.raises(frappe.ValidationError, match="Batch size must be a whole number"):
			call_endpoint("myapp.api.start_invoice_processing", user=manager, batch_size=bad)
	# `bench execute myapp.invoices.start_run` passes what it is given, unchecked by type hints
	for bad in ("abc", "0", 2.5, True):
		with pytest.raises(frappe.ValidationError, match="Batch size must be a whole number"):
			start_run(batch_size=bad)
	assert not frappe.db.count(RUN_DOCTYPE)

	result = call_endpoint("myapp.api.start_invoice_processing", user=manager, batch_size=2)
	doc = frappe.get_doc(RUN_DOCTYPE, result["run"])
	assert (doc.status, doc.total, doc.batch_size, doc.started_by) == ("Queued", 5, 2, manager)
	# before the request commits its job is not in the queue yet: the claim refuses a second start
	with pytest.raises(JobAlreadyQueuedError):
		call_endpoint("myapp.api.start_invoice_processing", user=manager)
	frappe.db.commit()
	with pytest.raises(frappe.ValidationError, match="already running"):
		call_endpoint("myapp.api.start_invoice_processing", user=manager)
	assert frappe.db.count(RUN_DOCTYPE) == 1


def test_nothing_to_process_creates_no_run(erpnext):
	make_invoices(3, prefix="TEST-SUBMITTED-", docstatus=1)
	result = start("Administrator")
	assert result["run"] is None and "no unprocessed" in result["message"]
	assert not frappe.db.count(RUN_DOCTYPE)


def test_without_erpnext_the_endpoint_says_so(site_without_erpnext):
	with pytest.raises(frappe.ValidationError, match="install ERPNext"):
		call_endpoint("myapp.api.start_invoice_processing")
	assert not frappe.db.count(RUN_DOCTYPE)


def test_bench_execute_without_a_run_starts_one(invoice_trigger, drain):
	"""`bench --site S execute myapp.tasks.process_invoices_batch` (no arguments) starts a run, as
	the list's button does, instead of failing with a TypeError."""
	from myapp.tasks import process_invoices_batch

	make_invoices(3)
	result = process_invoices_batch()
	frappe.db.commit()  # bench execute commits: the first batch is enqueued then
	drain()
	run = run_doc(result["run"])
	assert (run.status, run.processed, run.errors) == ("Completed", 3, 0)
