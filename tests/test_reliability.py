"""Issue 6, reliability: four workers at once on the same data, and injected faults.

- Concurrency: the expiry reminders, the sync push (and its hourly sweep), the weekly digest and
  the chunked invoice processing, each queued several times, run by 4 real workers at once;
  repeated scheduler ticks queue each due job once. Every effect (email, reminder, notification,
  push, processed invoice) must happen exactly once.
- Faults: a worker killed with SIGKILL mid-batch (invoices) and mid-import, with uncommitted work
  (the tests wait until the database shows it); Redis stopped and started again while jobs are
  queued (a Redis of this test's own, on another port, for a second site); real MariaDB lock wait
  timeouts in jobs (Frappe v15's execute_job and its retry path, and an app job surviving one).

What a worker did is observed in the database itself: triggers write every attempt to a MyISAM
table (kept on rollback) and every effect to an InnoDB table (committed or rolled back with it).
"""

import datetime
import os
import shutil
import signal
import subprocess
import time
import uuid

import frappe
import psutil
import pytest
import reliability_jobs
from conftest import call_endpoint, make_user, queued_emails, run_scheduler, start_worker
from external_api_server import ExternalAPIServer, Reply
from frappe.utils import now, nowdate
from frappe.utils.background_jobs import get_job, get_queue
from mail_content import subject
from reliability_jobs import recorded
from support import pending_jobs

# What the figures in README's "Performance and reliability" count (read by tests/reliability_report.py).
FIGURES = {
	"workers": 4,
	"jobs_run_concurrently": 0,
	"effects_checked": 0,
	"effects_duplicated": 0,
	"effects_missing": 0,
	"faults_injected": 0,
	"rows_lost": 0,
}

INVOICE_ATTEMPTS = "myapp_rel_invoice_attempts"  # MyISAM: every attempt, even rolled back
INVOICE_EFFECTS = "myapp_rel_invoice_effects"  # InnoDB: commits with the batch
CUSTOMER_ATTEMPTS = "myapp_rel_customer_attempts"
TRIGGERS = ("myapp_rel_invoice_processed", "myapp_rel_customer_inserted")
ACTIVE = ("Queued", "Running")


# --- observing workers through the database ----------------------------------------------------


@pytest.fixture
def observed(erpnext):
	"""Triggers that record each invoice processed and each customer inserted."""
	drop_observers()
	frappe.db.sql_ddl(f"create table {INVOICE_ATTEMPTS} (invoice varchar(140), conn bigint) engine=MyISAM")
	frappe.db.sql_ddl(f"create table {INVOICE_EFFECTS} (invoice varchar(140), conn bigint) engine=InnoDB")
	frappe.db.sql_ddl(f"create table {CUSTOMER_ATTEMPTS} (customer varchar(140), conn bigint) engine=MyISAM")
	frappe.db.sql_ddl(
		f"""create trigger {TRIGGERS[0]} before update on `tabSales Invoice` for each row
		begin
			if new.custom_processed = 1 and old.custom_processed = 0 then
				insert into {INVOICE_ATTEMPTS} values (new.name, connection_id());
				insert into {INVOICE_EFFECTS} values (new.name, connection_id());
			end if;
		end"""
	)
	frappe.db.sql_ddl(
		f"""create trigger {TRIGGERS[1]} after insert on `tabCustomer` for each row
		insert into {CUSTOMER_ATTEMPTS} values (new.customer_name, connection_id())"""
	)
	frappe.db.commit()
	yield
	frappe.db.rollback()
	drop_observers()


def drop_observers():
	for trigger in TRIGGERS:
		frappe.db.sql_ddl(f"drop trigger if exists {trigger}")
	for table in (INVOICE_ATTEMPTS, INVOICE_EFFECTS, CUSTOMER_ATTEMPTS):
		frappe.db.sql_ddl(f"drop table if exists {table}")


def counts(table, column="invoice"):
	frappe.db.rollback()  # a fresh snapshot: the workers commit in other connections
	return dict(frappe.db.sql(f"select {column}, count(*) from {table} group by {column}"))


def uncommitted_connections():
	"""Connections that attempted an invoice whose effect is not committed: a batch in flight."""
	frappe.db.rollback()
	return set(
		frappe.db.sql(
			f"""select distinct a.conn from {INVOICE_ATTEMPTS} a
			where not exists (select 1 from {INVOICE_EFFECTS} e where e.invoice = a.invoice)""",
			pluck=True,
		)
	)


def horse_of_connection(horses, connection_id):
	"""The work horse whose MariaDB connection has this id (matched by its TCP port)."""
	host = frappe.db.sql("select host from information_schema.processlist where id = %s", connection_id)
	if not host or ":" not in host[0][0]:
		return None
	port = int(host[0][0].rsplit(":", 1)[1])
	for horse in horses:
		try:
			if any(c.laddr and c.laddr.port == port for c in horse.connections(kind="tcp")):
				return horse
		except psutil.NoSuchProcess:
			continue
	return None


def horses_of(workers):
	return {
		worker.pid: psutil.Process(worker.pid).children(recursive=True)
		for worker in workers
		if worker.poll() is None
	}


def wait_for(condition, message, timeout=300):
	deadline = time.monotonic() + timeout
	while not (result := condition()):
		assert time.monotonic() < deadline, message
		time.sleep(0.1)
	return result


def stop_workers(processes):
	for process in processes:
		if process.poll() is None:
			process.send_signal(signal.SIGTERM)  # warm shutdown: the current job finishes first
	return "\n".join(process.communicate(timeout=120)[0] or "" for process in processes)


def kill(worker, horse):
	"""SIGKILL the worker, then its horse (the parent first: else it would fail the job itself)."""
	psutil.Process(worker.pid).kill()
	horse.kill()
	worker.wait(timeout=30)
	horse.wait(timeout=30)
	FIGURES["faults_injected"] += 1


def tally(expected: set, effects: dict, what: str):
	"""Each of `expected` happened exactly once according to `effects` ({key: count})."""
	FIGURES["effects_checked"] += len(expected)
	duplicated = {key: n for key, n in effects.items() if n > 1}
	missing = expected - set(effects)
	FIGURES["effects_duplicated"] += len(duplicated)
	FIGURES["effects_missing"] += len(missing)
	assert not duplicated, f"{what} happened more than once: {duplicated}"
	assert not missing, f"{what} never happened: {sorted(missing)[:5]}"
	assert set(effects) <= expected, f"unexpected {what}: {sorted(set(effects) - expected)[:5]}"


# --- data ------------------------------------------------------------------------------------------


def make_invoices(count, prefix="REL-SINV-"):
	timestamp = now()
	fields = ["name", "creation", "modified", "owner", "modified_by", "docstatus", "customer", "posting_date"]
	fields += ["status", "grand_total", "outstanding_amount", "custom_processed"]
	rows = [
		(f"{prefix}{i:05d}", timestamp, timestamp, "Administrator", "Administrator", 0, "Test Customer")
		+ (nowdate(), "Draft", 100, 100, 0)
		for i in range(count)
	]
	frappe.db.bulk_insert("Sales Invoice", fields, rows)
	frappe.db.commit()
	return [row[0] for row in rows]


def start_invoice_run(batch_size):
	user = make_user("rel.accounts@myapp.test", ["Accounts Manager"])
	frappe.db.commit()
	result = call_endpoint("myapp.api.start_invoice_processing", user=user, batch_size=batch_size)
	frappe.db.commit()  # the first batch is enqueued when the request commits
	return result["run"]


def run_status(run):
	frappe.db.rollback()
	return frappe.db.get_value("Invoice Processing Run", run, ["status", "processed", "errors"], as_dict=True)


# --- concurrency: 4 workers, every effect once --------------------------------------------------


def test_four_workers_run_every_job_on_the_same_data_and_each_effect_happens_once(erpnext, observed, drain):
	from test_expiry import days, make_contract, make_rule
	from test_newsletter import digest_emails, subscriber
	from test_sync import configure, make_order

	with ExternalAPIServer(max_requests=200, lifetime=600) as api:
		# sync push: slow answers keep several workers inside a push at the same time
		configure(api)
		orders = [make_order() for _ in range(12)]
		api.script("POST", "/orders", *[Reply(201, {"id": f"EXT-{n}"}, delay=0.1) for n in range(12)])
		# expiry reminders
		owner = make_user("rel.owner@myapp.test", ["Sales User"])
		make_rule(days_before="7")
		contracts = [make_contract(days(7), owner=owner) for _ in range(8)]
		# weekly digest
		readers = [subscriber(f"rel.reader{n}@myapp.test") for n in range(5)]
		# chunked invoice processing: 16 chained batches
		invoices = make_invoices(400)
		run = start_invoice_run(batch_size=25)

		for copy in range(4):
			frappe.enqueue("myapp.expiry.check_expiring_documents", job_id=f"rel-expiry-{copy}")
			frappe.enqueue("myapp.sync.push_to_external", job_id=f"rel-push-{copy}")
			frappe.enqueue("myapp.newsletter.send_weekly_digest", job_id=f"rel-digest-{copy}")
		frappe.enqueue("myapp.tasks.sync_to_external_system", job_id="rel-sweep")
		queued = pending_jobs()
		output = drain(workers=4)
		FIGURES["jobs_run_concurrently"] += queued + 16

	assert run_status(run).status == "Completed", output
	tally(set(invoices), counts(INVOICE_EFFECTS), "invoice processing")
	assert frappe.db.count("Sales Invoice", {"custom_processed": 0}) == 0

	pushed = [request.json["order_id"] for request in api.requests_to("POST")]
	tally(set(orders), {name: pushed.count(name) for name in pushed}, "order push")

	reminders = frappe.get_all("Expiry Notification Log", pluck="reference_name")
	tally(set(contracts), {name: reminders.count(name) for name in reminders}, "expiry reminder")
	notified = frappe.get_all("Notification Log", filters={"for_user": owner}, pluck="document_name")
	tally(set(contracts), {name: notified.count(name) for name in notified}, "expiry notification")
	reminder_mails = [m.reference_name for m in queued_emails(reference_doctype="Contract")]
	tally(set(contracts), {name: reminder_mails.count(name) for name in reminder_mails}, "expiry email")

	digests = [m.recipients[0] for m in digest_emails()]
	tally(set(readers), {user: digests.count(user) for user in digests}, "weekly digest")

	assert frappe.get_all("Error Log", pluck="method") == []


def test_repeated_scheduler_ticks_queue_each_due_job_once_and_four_workers_run_each_once(erpnext, drain):
	make_user("rel.manager@myapp.test", ["System Manager", "Sales User"])
	frappe.db.commit()
	# a Monday 09:00 a week ahead: every daily, hourly, weekly and cron job of the app is due
	monday = datetime.date.today() + datetime.timedelta(days=7 - datetime.date.today().weekday() + 7)
	at = datetime.datetime.combine(monday, datetime.time(9, 0))
	first = run_scheduler(at)
	assert {"myapp.tasks.weekday_summary_email", "myapp.expiry.check_expiring_documents"} <= set(first)
	# the same tick again (a second scheduler process, a tick while the jobs wait): nothing more
	assert run_scheduler(at) == [] and run_scheduler(at) == []
	drain(workers=4)
	# the app's jobs: a real bench has Frappe's and ERPNext's too, and v15 writes no Scheduled Job
	# Log for its "All" jobs (frappe.email.queue.flush, frappe.monitor.flush)
	first = [method for method in first if method.startswith("myapp.")]
	FIGURES["jobs_run_concurrently"] += len(first)

	frappe.db.rollback()
	method_of = dict(frappe.get_all("Scheduled Job Type", fields=["name", "method"], as_list=True))
	logs = [
		log
		for log in frappe.get_all("Scheduled Job Log", fields=["scheduled_job_type", "status"])
		if method_of.get(log.scheduled_job_type, "").startswith("myapp.")
	]
	runs = {}
	for log in logs:
		method = method_of[log.scheduled_job_type]
		runs[method] = runs.get(method, 0) + 1
	tally(set(first), runs, "scheduled job run")
	assert {log.status for log in logs} == {"Complete"}, logs
	sent = [(tuple(m.recipients), subject(m.message)) for m in queued_emails()]
	tally(set(sent), {mail: sent.count(mail) for mail in sent}, "scheduled email")


# --- faults: SIGKILL mid-batch ------------------------------------------------------------------


def freeze_a_batch_in_flight(workers, timeout=120):
	"""Suspend every work horse at a moment when one holds uncommitted processed invoices.
	Returns (worker, horse, database connection id) of that batch, and the other horses (to resume)."""
	deadline = time.monotonic() + timeout
	while True:
		assert time.monotonic() < deadline, "no batch was ever caught with uncommitted work"
		by_worker = horses_of(workers)
		horses = [horse for group in by_worker.values() for horse in group]
		if horses and uncommitted_connections():
			for horse in horses:
				try:
					horse.suspend()
				except psutil.NoSuchProcess:
					pass
			time.sleep(0.5)  # a statement already sent reaches the database before we look again
			for connection_id in uncommitted_connections():
				horse = horse_of_connection(horses, connection_id)
				if horse:
					worker = next(w for w in workers if horse in by_worker.get(w.pid, []))
					return worker, horse, connection_id, [h for h in horses if h.pid != horse.pid]
			for horse in horses:
				try:
					horse.resume()
				except psutil.NoSuchProcess:
					pass
		time.sleep(0.05)


def test_a_worker_killed_mid_batch_among_four_loses_only_its_batch_and_the_run_finishes_once(
	erpnext, observed
):
	invoices = make_invoices(600)
	run = start_invoice_run(batch_size=40)
	workers = [start_worker("long", burst=False) for _ in range(4)]
	try:
		worker, horse, connection_id, others = freeze_a_batch_in_flight(workers)
		# the killed horse's own uncommitted invoices (the other frozen horses commit theirs later)
		in_flight = {
			invoice
			for invoice, conn in frappe.db.sql(f"select invoice, conn from {INVOICE_ATTEMPTS}")
			if conn == connection_id and invoice not in counts(INVOICE_EFFECTS)
		}
		kill(worker, horse)
		for other in others:
			try:
				other.resume()
			except psutil.NoSuchProcess:
				pass
		survivors = [w for w in workers if w is not worker]
		# (the killed batch's job stays "started" in RQ until its heartbeat expires: not waited for)
		wait_for(
			lambda: run_status(run).status not in ACTIVE and not get_queue("long").count, "run never ended"
		)
	finally:
		output = stop_workers([w for w in workers if w.poll() is None])

	assert in_flight, "the killed batch had uncommitted work"
	status = run_status(run)
	assert (status.status, status.processed, status.errors) == ("Completed", 600, 0), output
	effects = counts(INVOICE_EFFECTS)
	tally(set(invoices), effects, "invoice processing after a SIGKILL")
	# the killed batch's invoices were attempted twice: once rolled back with the horse, once for good
	attempts = counts(INVOICE_ATTEMPTS)
	assert all(attempts[invoice] >= 2 for invoice in in_flight)
	assert len(survivors) == 3


def test_a_horse_killed_mid_import_among_four_workers_resumes_and_imports_no_row_twice(observed, drain):
	from user_jobs_helpers import customer_masters, upload_csv

	customer_masters()
	user = make_user("rel.importer@myapp.test", ["Sales Master Manager"])
	total = 3000
	rows = [["customer_name", "customer_group", "territory", "customer_type"]]
	rows += [[f"Rel Import {i:05d}", "Retail", "Europe", "Company"] for i in range(total)]
	file_url = upload_csv("reliability.csv", rows, owner=user)
	log_name = call_endpoint("myapp.api.start_csv_import", user=user, file_url=file_url, doctype="Customer")[
		"import_log"
	]
	# one job among four workers (the import on several workers: test_importer_parallel.py)
	frappe.db.set_value("CSV Import Log", log_name, {"batch_size": 50, "workers": 1})
	frappe.db.commit()

	def imported():
		frappe.db.rollback()
		return frappe.db.count("Customer", {"customer_name": ("like", "Rel Import %")})

	workers = [start_worker("long", burst=False) for _ in range(4)]
	try:
		# wait for committed rows plus rows the horse has inserted and not yet committed
		def caught():
			horses = [h for group in horses_of(workers).values() for h in group]
			if len(horses) != 1 or imported() < 200:
				return None
			horses[0].suspend()
			time.sleep(0.5)
			if sum(counts(CUSTOMER_ATTEMPTS, "customer").values()) > imported():
				return horses[0]
			horses[0].resume()
			return None

		horse = wait_for(caught, "the import was never caught with uncommitted rows", timeout=180)
		horse.kill()  # the work horse dies as under the OOM killer; its worker lives on
		horse.wait(timeout=30)
		FIGURES["faults_injected"] += 1
		frappe.db.rollback()
		log = frappe.get_doc("CSV Import Log", log_name)
		# its worker records the job as failed (no callback runs), which frees the job's claim
		job = get_job(log.job_id)
		wait_for(lambda: job.get_status(refresh=True) == "failed", "the killed job was never marked failed")
		committed = imported()
		assert log.status == "Running" and log.processed_rows == committed == log.success_count < total

		# resume, and a second identical start at once is refused
		call_endpoint("myapp.api.start_import", user=user, import_log=log_name)
		with pytest.raises(frappe.ValidationError):
			call_endpoint("myapp.api.start_import", user=user, import_log=log_name)
		frappe.db.commit()

		def finished():
			frappe.db.rollback()  # a fresh snapshot
			return frappe.db.get_value("CSV Import Log", log_name, "status") not in ("Queued", "Running")

		wait_for(finished, "the resumed import never finished")
	finally:
		stop_workers(workers)

	frappe.db.rollback()
	log = frappe.get_doc("CSV Import Log", log_name)
	assert (log.status, log.processed_rows, log.success_count, log.error_count) == (
		"Success",
		total,
		total,
		0,
	)
	names = frappe.get_all(
		"Customer", filters={"customer_name": ("like", "Rel Import %")}, pluck="customer_name"
	)
	expected = {f"Rel Import {i:05d}" for i in range(total)}
	FIGURES["rows_lost"] += len(expected - set(names))
	tally(expected, {name: names.count(name) for name in names}, "imported row")


# --- faults: Redis stopped and started while jobs are queued --------------------------------------

REDIS_PORT = 6390


class OwnRedis:
	"""A redis-server of this test's own (never the shared one), persisting to an append-only
	file so that what was queued survives a restart, as a production queue Redis should."""

	def __init__(self, port=REDIS_PORT):
		self.port = port
		self.dir = f"/tmp/myapp-t6r-redis-{port}"
		self.pidfile = f"{self.dir}/redis.pid"

	def start(self):
		os.makedirs(self.dir, exist_ok=True)
		subprocess.run(
			[
				"redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
				"--appendonly", "yes", "--appendfsync", "always", "--dir", self.dir,
				"--daemonize", "yes", "--pidfile", self.pidfile,
			],
			check=True,
		)  # fmt: skip
		wait_for(self.ping, "redis-server did not start", timeout=30)

	def ping(self):
		return (
			subprocess.run(
				["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True
			).stdout.strip()
			== "PONG"
		)

	def stop(self):
		# SHUTDOWN NOSAVE: no RDB snapshot; the append-only file keeps what was written
		subprocess.run(["redis-cli", "-p", str(self.port), "shutdown", "nosave"], capture_output=True)
		wait_for(lambda: not self.ping(), "redis-server did not stop", timeout=30)

	def remove(self):
		if self.ping():
			self.stop()
		shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def site_on_own_redis(monkeypatch):
	"""A second testbed site (prefix t6r2) whose queue and cache are on OwnRedis; this process is
	connected to it for the test's body."""
	from frappe.utils import background_jobs
	from support import BENCH_SITE, connect_site, install_test_site

	if BENCH_SITE:
		pytest.skip("needs a second site on a Redis of its own; the testbed installs one")
	if not shutil.which("redis-server"):
		pytest.skip("redis-server is not installed")
	redis = OwnRedis()
	redis.remove()
	redis.start()
	prefix = os.environ.get("MYAPP_TEST_DB_PREFIX", "myapp_test")
	monkeypatch.setenv("MYAPP_TEST_DB_PREFIX", f"{prefix}2")
	monkeypatch.setenv("MYAPP_REDIS_URL", f"redis://127.0.0.1:{REDIS_PORT}")
	monkeypatch.setenv("MYAPP_TEST_REDIS_DB", "0")
	# Like Frappe, the testbed keeps one queue connection per process (a bench has one queue
	# Redis for all its sites): drop it while this site is on another Redis, and after.
	monkeypatch.setattr(background_jobs, "_redis_queue_conn", None)
	try:
		install_test_site()
		yield redis
	finally:
		if getattr(frappe.local, "db", None):
			frappe.db.rollback()
		background_jobs._redis_queue_conn = None
		monkeypatch.undo()
		redis.remove()
		connect_site()


def test_redis_restarted_while_jobs_are_queued_loses_nothing_and_the_app_recovers(site_on_own_redis, drain):
	from test_testbed_jobs import todo_exists
	from testbed_jobs_fixtures import insert_todo
	from user_jobs_helpers import customer_masters, make_customer

	redis = site_on_own_redis
	customer_masters()
	make_customer("Redis Fault Customer")
	user = make_user("rel.redis@myapp.test", ["Sales Master Manager"])  # export and import rights
	frappe.db.commit()

	# queued before the outage: plain jobs and a user's export
	before = [f"before-{uuid.uuid4().hex[:8]}" for _ in range(5)]
	for description in before:
		frappe.enqueue(insert_todo, description=description)
	export = call_endpoint("myapp.api.start_export", user=user, doctype="Customer")
	frappe.db.commit()
	assert pending_jobs() == 6

	redis.stop()
	FIGURES["faults_injected"] += 1
	# during the outage: a clear error, and the request leaves nothing behind
	logs_before = frappe.db.count("CSV Import Log")
	from user_jobs_helpers import upload_csv

	file_url = upload_csv("outage.csv", [["customer_name"], ["x"]], owner=user)
	for method, kwargs in (
		("myapp.api.start_customer_export", {}),
		("myapp.api.generate_report", {"report_type": "customer_list"}),
	):
		with pytest.raises(frappe.ValidationError) as caught:
			call_endpoint(method, user=user, **kwargs)
		assert "queue" in str(caught.value).lower(), f"{method}: unclear error {caught.value!r}"
		frappe.db.rollback()
	with pytest.raises(frappe.ValidationError) as caught:
		call_endpoint("myapp.api.start_csv_import", user=user, file_url=file_url, doctype="Customer")
	assert "queue" in str(caught.value).lower()
	frappe.db.rollback()
	assert frappe.db.count("CSV Import Log") == logs_before  # no log left Queued without a job

	redis.start()
	# the app recovers at once: the jobs queued before the outage are still there and run,
	# and a new request is served
	assert pending_jobs() == 6
	again = call_endpoint("myapp.api.generate_report", user=user, report_type="customer_list")
	frappe.db.commit()
	output = drain(workers=4)
	lost = [d for d in before if not todo_exists(d)]
	FIGURES["rows_lost"] += len(lost)
	assert lost == [], output
	# the export queued before the outage and the report asked for after it both made their file
	files = frappe.get_all(
		"File", filters={"owner": user, "file_name": ("like", "customer_%.csv")}, pluck="file_name"
	)
	assert sorted(name.split("-")[0] for name in files) == ["customer_export", "customer_list"], (
		export,
		again,
		output,
	)


# --- faults: lock wait timeouts in jobs ---------------------------------------------------------


def hold_lock_and_run_a_worker(name, until):
	"""Lock the ToDo `name` in this connection, run one burst worker, release when `until()`."""
	frappe.db.sql("select name from `tabToDo` where name = %s for update", name)
	worker = start_worker()
	try:
		wait_for(until, "the job never hit the lock", timeout=60)
	finally:
		frappe.db.rollback()  # release the row lock
	return worker.communicate(timeout=180)[0]


def a_todo():
	doc = frappe.get_doc({"doctype": "ToDo", "description": "locked"}).insert(ignore_permissions=True)
	frappe.db.commit()
	return doc.name


def test_a_lock_wait_timeout_fails_the_job_without_retry_as_in_frappe_v15():
	"""v15's Database.sql raises a lock wait timeout (1205) as frappe.QueryTimeoutError, which is
	not a `frappe.db.InternalError`: execute_job's retry branch never sees it, so the job is rolled
	back, logged (Error Log titled with the method) and failed, once. (Deadlocks, 1213, likewise.)"""
	name, key = a_todo(), f"timeout-{uuid.uuid4().hex[:8]}"
	user = make_user("rel.locked@myapp.test", ["System Manager"])
	frappe.db.commit()
	frappe.set_user(user)
	job = frappe.enqueue(reliability_jobs.update_locked_todo, name=name, key=key)
	frappe.set_user("Administrator")
	frappe.db.commit()
	output = hold_lock_and_run_a_worker(name, until=lambda: recorded(f"{key}:errors"))
	FIGURES["faults_injected"] += 1

	assert recorded(f"{key}:errors") == ["QueryTimeoutError"], output
	assert len(recorded(key)) == 1, "retried"
	assert job.get_status(refresh=True) == "failed", output
	frappe.db.rollback()
	assert frappe.db.get_value("ToDo", name, "description") == "locked"
	assert frappe.get_all("Error Log", pluck="method") == ["reliability_jobs.update_locked_todo"]


def test_a_retry_requested_after_a_lock_wait_timeout_runs_again_and_commits_then_rq_says_failed():
	"""Frappe v15's retry path, as it really behaves: RetryBackgroundJobError makes execute_job
	roll back, sleep (1 s, 2 s, ...) and run the method again, up to 5 times. The retried run
	commits. Two quirks follow from v15's code: the retry is called without `user`, so it runs as
	Administrator; and after it, execute_job's `finally` finds no `frappe.local.job` (the context
	was destroyed and re-initialised), raises AttributeError, and RQ records the job as failed,
	running its on_failure callback, although its work was committed."""
	name, key = a_todo(), f"retry-{uuid.uuid4().hex[:8]}"
	user = make_user("rel.retry@myapp.test", ["System Manager"])
	frappe.db.commit()
	frappe.set_user(user)
	job = frappe.enqueue(reliability_jobs.update_locked_todo_asking_for_retry, name=name, key=key)
	frappe.set_user("Administrator")
	frappe.db.commit()
	# release the lock once the first run has timed out: the retry then gets the row
	output = hold_lock_and_run_a_worker(name, until=lambda: recorded(f"{key}:errors"))
	FIGURES["faults_injected"] += 1

	runs = recorded(key)
	assert len(runs) >= 2, output
	assert runs[0]["user"] == user and {run["user"] for run in runs[1:]} == {"Administrator"}
	frappe.db.rollback()
	assert frappe.db.get_value("ToDo", name, "description") == f"done by {key}"  # committed
	assert job.get_status(refresh=True) == "failed"  # ... yet failed in RQ (v15's quirk)
	failure = job.latest_result()
	assert failure and "AttributeError" in (failure.exc_string or ""), failure


def test_an_app_job_that_hits_a_lock_wait_timeout_logs_it_and_the_next_run_sends_once(erpnext):
	"""The expiry job waits on the unique key of a reminder that another run has inserted and not
	committed; its lock wait times out. It rolls the rule back, logs it and finishes; when the
	other run rolls back, the next run sends the reminder, once."""
	from test_expiry import LOG, days, make_contract, make_rule

	owner = make_user("rel.expiry@myapp.test", ["Sales User"])
	make_rule(days_before="7")
	contract = make_contract(days(7), owner=owner)
	key = f"expiry-{uuid.uuid4().hex[:8]}"
	frappe.enqueue(reliability_jobs.expiry_reminders_with_short_lock_waits, key=key)
	frappe.db.commit()

	# another run's uncommitted claim of the same reminder, in this connection
	frappe.get_doc(
		{
			"doctype": LOG,
			"reference_doctype": "Contract",
			"reference_name": contract,
			"days_before": 7,
			"user": owner,
		}
	).insert(ignore_permissions=True)
	worker = start_worker()
	try:
		wait_for(lambda: recorded(key), "the expiry job never finished", timeout=120)
	finally:
		frappe.db.rollback()  # the other run fails: its claim goes
		output = worker.communicate(timeout=120)[0]
	FIGURES["faults_injected"] += 1

	assert recorded(key) == [{"sent": 0, "already_sent": 0, "user_disabled": 0, "failed": 1}], output
	errors = frappe.get_all("Error Log", fields=["method", "reference_name"])
	assert [(e.method, e.reference_name) for e in errors] == [
		(f"Expiry reminders: rule {e.reference_name} failed", e.reference_name) for e in errors
	]
	assert len(errors) == 1 and queued_emails() == []

	frappe.enqueue(reliability_jobs.expiry_reminders_with_short_lock_waits, key=f"{key}-2")
	start_worker().communicate(timeout=120)
	assert recorded(f"{key}-2")[0]["sent"] == 1
	frappe.db.rollback()
	assert len(frappe.get_all(LOG, filters={"reference_name": contract})) == 1
	assert len(queued_emails(reference_name=contract)) == 1
