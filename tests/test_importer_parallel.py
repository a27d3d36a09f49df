"""Issue 12: one 20,000-row import on four real workers, with faults injected: a work horse killed with SIGKILL
in the middle of a chunk, a deadlock on a row and a real lock wait timeout on another. Every row
must land exactly once and the log must end with the right counts.

What the workers did is observed in the database, as in test_reliability.py: a trigger writes each
Customer insert attempt (with its connection) to a MyISAM table, which a rollback does not undo.
"""

import time

import frappe
import psutil
import pytest
from conftest import call_endpoint, make_user, start_worker
from frappe.utils.background_jobs import get_job
from support import own_connection
from test_reliability import (  # noqa: F401  (observed: the fixture)
	CUSTOMER_ATTEMPTS,
	FIGURES,
	counts,
	horse_of_connection,
	horses_of,
	observed,
	stop_workers,
	tally,
	wait_for,
)
from user_jobs_helpers import customer_masters, upload_csv

FAULTS = "myapp_par_faults"  # MyISAM: each fault the trigger injected, kept on rollback
LOCK = "myapp_par_lock"  # InnoDB: a row the test holds locked while a worker's insert waits on it
FAULT_TRIGGER = "myapp_par_fault"
TOTAL = 20_000  # the issue asks for a 20,000-row file
DEADLOCK_ROW = 1500
LOCK_WAIT_ROW = 3000


def name_of(i):
	return f"Par Import {i:05d}"


@pytest.fixture
def faults(request):
	"""A trigger on Customer inserts that, for one row, raises a deadlock (errno 1213) once, and
	for another waits on a row lock the test holds, with a lock wait timeout of 1 s (errno 1205).
	Each insert attempt is recorded by test_reliability's `observed` triggers."""
	request.getfixturevalue("observed")
	drop_faults()
	frappe.db.sql_ddl(f"create table {FAULTS} (customer varchar(140), kind varchar(20)) engine=MyISAM")
	frappe.db.sql_ddl(f"create table {LOCK} (id int primary key) engine=InnoDB")
	frappe.db.sql(f"insert into {LOCK} values (1)")
	frappe.db.commit()
	frappe.db.sql_ddl(
		f"""create trigger {FAULT_TRIGGER} before insert on `tabCustomer` for each row
		begin
			if new.customer_name = '{name_of(DEADLOCK_ROW)}'
				and not exists (select 1 from {FAULTS} where kind = 'deadlock') then
				insert into {FAULTS} values (new.customer_name, 'deadlock');
				signal sqlstate '40001' set mysql_errno = 1213,
					message_text = 'Deadlock found when trying to get lock; try restarting transaction';
			end if;
			if new.customer_name = '{name_of(LOCK_WAIT_ROW)}' then
				insert into {FAULTS} values (new.customer_name, 'lock wait');
				set session innodb_lock_wait_timeout = 1;
				select id into @myapp_par_lock from {LOCK} where id = 1 for update;
			end if;
		end"""
	)
	frappe.db.commit()
	yield
	frappe.db.rollback()
	drop_faults()


def drop_faults():
	frappe.db.sql_ddl(f"drop trigger if exists {FAULT_TRIGGER}")
	for table in (FAULTS, LOCK):
		frappe.db.sql_ddl(f"drop table if exists {table}")


def fault_count(kind):
	return frappe.db.sql(f"select count(*) from {FAULTS} where kind = %s", kind)[0][0]


def uncommitted_connections():
	"""Connections that inserted a Customer that is not committed: a chunk in flight."""
	frappe.db.rollback()
	return set(
		frappe.db.sql(
			f"""select distinct a.conn from {CUSTOMER_ATTEMPTS} a
			where not exists (select 1 from `tabCustomer` c where c.customer_name = a.customer)""",
			pluck=True,
		)
	)


def imported():
	frappe.db.rollback()
	return frappe.db.count("Customer", {"customer_name": ("like", "Par Import %")})


def catch_a_chunk_in_flight(workers):
	"""Suspend every work horse at a moment when one holds uncommitted rows; that horse, its
	database connection, and the others (to resume)."""
	horses = [h for group in horses_of(workers).values() for h in group]
	if len(horses) < 2 or imported() < 300 or not uncommitted_connections():
		return None
	for horse in horses:
		horse.suspend()
	time.sleep(0.5)  # a statement already sent reaches the database before we look again
	for connection_id in uncommitted_connections():
		horse = horse_of_connection(horses, connection_id)
		if horse:
			return horse, connection_id, [h for h in horses if h.pid != horse.pid]
	for horse in horses:
		horse.resume()
	return None


def test_four_workers_import_one_file_through_a_sigkill_a_deadlock_and_a_lock_wait_timeout(faults):
	customer_masters()
	user = make_user("par.importer@myapp.test", ["Sales Master Manager"])
	rows = [["customer_name", "customer_group", "territory", "customer_type"]]
	rows += [[name_of(i), "Retail", "Europe", "Company"] for i in range(TOTAL)]
	file_url = upload_csv("parallel.csv", rows, owner=user)
	holder = own_connection()
	holder.cursor().execute(f"select id from {LOCK} where id = 1 for update")  # held until released

	log_name = call_endpoint("myapp.api.start_csv_import", user=user, file_url=file_url, doctype="Customer")[
		"import_log"
	]
	# four jobs however many workers have registered when the first one takes the import
	frappe.db.set_value("CSV Import Log", log_name, {"batch_size": 50, "workers": 4})
	frappe.db.commit()
	started = time.monotonic()
	workers = [start_worker("long", burst=False) for _ in range(4)]
	resumed = False
	try:
		# SIGKILL the work horse of a chunk in flight (as the OOM killer would); its worker lives on
		caught = wait_for(lambda: catch_a_chunk_in_flight(workers), "no chunk caught in flight", 120)
		horse, connection_id, others = caught
		committed = set(frappe.get_all("Customer", pluck="customer_name"))
		in_flight = {
			customer
			for customer in frappe.db.sql(
				f"select customer from {CUSTOMER_ATTEMPTS} where conn = %s", connection_id, pluck=True
			)
			if customer not in committed
		}
		horse.kill()
		horse.wait(timeout=30)
		FIGURES["faults_injected"] += 1
		for other in others:
			try:
				other.resume()
			except psutil.NoSuchProcess:
				pass

		# the lock wait: release the lock once an insert has timed out on it
		wait_for(lambda: fault_count("lock wait"), "no row waited on the lock", 120)
		time.sleep(1.3)
		holder.rollback()
		FIGURES["faults_injected"] += 2  # the lock wait timeout and the deadlock

		def finished():
			nonlocal resumed
			frappe.db.rollback()
			log = frappe.db.get_value("CSV Import Log", log_name, ["status", "job_id"], as_dict=True)
			if log.status not in ("Queued", "Running"):
				return True
			if not resumed and get_job(log.job_id).get_status(refresh=True) == "failed":
				# the killed horse ran the import's first job: its worker has failed that job (no
				# callback runs) and the log stays Running, as Resume Import expects
				call_endpoint("myapp.api.start_import", user=user, import_log=log_name)
				frappe.db.commit()
				resumed = True
			return False

		wait_for(finished, "the import never finished", 900)
		seconds = time.monotonic() - started
	finally:
		holder.close()
		output = stop_workers([w for w in workers if w.poll() is None])

	frappe.db.rollback()
	log = frappe.get_doc("CSV Import Log", log_name)
	assert (log.status, log.total_rows, log.processed_rows, log.success_count, log.error_count) == (
		"Success",
		TOTAL,
		TOTAL,
		TOTAL,
		0,
	), output
	assert log.workers_used == 4 and log.failed_rows == []
	names = frappe.get_all("Customer", filters={"customer_name": ("like", "Par Import %")}, pluck="name")
	expected = {name_of(i) for i in range(TOTAL)}
	FIGURES["rows_lost"] += len(expected - set(names))
	tally(expected, {name: names.count(name) for name in names}, "imported row")  # none lost, none twice

	# the faults happened, and their rows were tried again rather than reported
	assert in_flight, "the killed chunk had uncommitted rows"
	attempts = counts(CUSTOMER_ATTEMPTS, "customer")
	assert all(attempts[customer] >= 2 for customer in in_flight)
	assert fault_count("deadlock") == 1 and fault_count("lock wait") >= 2
	assert frappe.get_all("CSV Import Chunk") == []
	print(f"{TOTAL} rows on 4 workers with 3 faults in {seconds:.1f} s (resumed: {resumed})")


def test_a_redis_restart_that_loses_the_queued_helper_jobs_loses_no_row():
	"""A queue Redis that keeps nothing on disk comes back empty: the import's helper jobs, queued
	but not started, are gone. The chunks live in the database, so the import's first job imports
	them all itself and the log ends right: every row once."""
	from frappe.utils.background_jobs import get_redis_conn
	from support import pending_jobs

	total = 3000
	user = "Administrator"  # ToDo grants no role the import right
	rows = [["description", "status"]] + [[f"Redis Restart {i:05d}", "Open"] for i in range(total)]
	file_url = upload_csv("redis-restart.csv", rows, owner=user)
	log_name = call_endpoint("myapp.api.start_csv_import", user=user, file_url=file_url, doctype="ToDo")[
		"import_log"
	]
	frappe.db.set_value("CSV Import Log", log_name, {"batch_size": 50, "workers": 3})
	frappe.db.commit()
	# one worker: while its horse runs the first job, the two helper jobs wait in the queue
	worker = start_worker("long", burst=False)
	try:
		# the first job started, its two helpers queued
		wait_for(lambda: pending_jobs(queues=("long",)) == 3, "the helper jobs were never queued", 120)
		wait_for(
			lambda: frappe.db.rollback() or frappe.db.get_value("CSV Import Log", log_name, "processed_rows"),
			"no chunk was committed",
			120,
		)
		get_redis_conn().flushdb()  # what the restart leaves: no queued job, no worker registration
		FIGURES["faults_injected"] += 1

		def finished():
			frappe.db.rollback()
			return frappe.db.get_value("CSV Import Log", log_name, "status") not in ("Queued", "Running")

		wait_for(finished, "the import never finished", 300)
	finally:
		output = stop_workers([worker])
		print(output)  # the worker's log, shown when the test fails

	log = frappe.get_doc("CSV Import Log", log_name)
	assert (log.status, log.processed_rows, log.success_count, log.error_count) == (
		"Success",
		total,
		total,
		0,
	), output
	descriptions = frappe.get_all(
		"ToDo", filters={"description": ("like", "Redis Restart %")}, pluck="description"
	)
	expected = {f"Redis Restart {i:05d}" for i in range(total)}
	FIGURES["rows_lost"] += len(expected - set(descriptions))
	tally(expected, {d: descriptions.count(d) for d in descriptions}, "imported row")
	assert frappe.get_all("CSV Import Chunk") == []


def test_an_import_leaves_no_stale_entries_in_frappes_currently_saving():
	"""Each insert leaves (doctype, None) in frappe.flags.currently_saving (v15), which every later
	save scans: a 100,000-row import slowed to a third of its speed. The importer removes them."""
	from myapp.importer import run_csv_import

	rows = [["description", "status"]] + [[f"Saving {i}", "Open"] for i in range(300)]
	rows.append(["Bad status", "Nope"])  # a failed row leaves nothing either
	log = frappe.get_doc(
		{
			"doctype": "CSV Import Log",
			"import_file": upload_csv("saving.csv", rows),
			"reference_doctype": "ToDo",
			"workers": 1,
		}
	).insert()
	frappe.db.commit()
	before = list(frappe.flags.currently_saving)
	result = run_csv_import(log.name)
	assert (result["success"], result["errors"]) == (300, 1)
	assert frappe.flags.currently_saving == before
