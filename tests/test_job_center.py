"""Issue 11: failed background jobs are never lost. Real RQ workers fail real jobs; the capture
(`myapp.job_center.capture_failed_jobs`, the every-minute scheduler event) records them as Failed
Jobs, retries them under Job Retry Policies, and System Managers retry them by hand.
Time is driven by moving `next_retry_at` into the past, never by sleeping."""

import json
import time
import uuid
from contextlib import contextmanager

import frappe
import job_center_jobs
import psutil
import pytest
from conftest import (
	BENCH_SITE,
	addresses_of_test_users,
	call_endpoint,
	make_user,
	queued_emails,
	start_worker,
)
from frappe.utils import add_to_date, get_datetime, now_datetime
from frappe.utils.background_jobs import get_queue, get_redis_conn
from rq.job import Job
from support import connect_site, pending_jobs

from myapp.job_center import DOCTYPE, capture_failed_jobs, recorded_set_key

POLICY = "Job Retry Policy"
TEST_POLICY_PREFIX = "job_center_jobs."


BROAD_TEST_PATTERN = "myapp.*"  # a test's policy over every job of the app (never a default)


def delete_test_policies():
	frappe.db.delete(POLICY, {"method_pattern": ("like", f"{TEST_POLICY_PREFIX}%")})
	frappe.db.delete(POLICY, {"method_pattern": BROAD_TEST_PATTERN})
	frappe.db.commit()


@pytest.fixture(autouse=True)
def clean_job_center():
	"""No test policies (before too: a run killed half-way on a real site leaves its own), no
	remembered job ids (the conftest empties Failed Job and the queues)."""
	delete_test_policies()
	get_redis_conn().delete(recorded_set_key())
	yield
	frappe.db.rollback()
	delete_test_policies()


def make_policy(method, max_attempts=5, **values):
	return frappe.get_doc(
		{
			"doctype": POLICY,
			"method_pattern": method,
			"max_attempts": max_attempts,
			"backoff_base_seconds": 60,
			"backoff_factor": 2,
			"max_backoff_seconds": 3600,
			"jitter": 1,
			"transient_exceptions": "frappe.exceptions.QueryDeadlockError\nrequests.exceptions.Timeout",
			"notify_role": "System Manager",
			"quiet_period_minutes": 60,
			**values,
		}
	).insert(ignore_permissions=True)


def key():
	return uuid.uuid4().hex[:10]


def enqueue(method, queue="short", **kwargs):
	# as a function: a path outside an installed app is refused by frappe.get_attr in the worker
	return frappe.enqueue(getattr(job_center_jobs, method), queue=queue, **kwargs)


def capture():
	frappe.db.commit()
	result = capture_failed_jobs()
	frappe.db.commit()
	return result


def records(**filters):
	frappe.db.rollback()  # a fresh snapshot: workers commit from other connections
	return frappe.get_all(DOCTYPE, filters=filters, fields=["*"], order_by="creation asc")


def only_record(**filters):
	rows = records(**filters)
	assert len(rows) == 1, rows
	return rows[0]


def make_due(name):
	frappe.db.set_value(DOCTYPE, name, "next_retry_at", add_to_date(now_datetime(), seconds=-1))
	frappe.db.commit()


def backoff_of(record):
	"""Seconds from the moment the record was written to its next retry (not from now: the test may
	be slow to look, a loaded machine more so)."""
	return (get_datetime(record.next_retry_at) - get_datetime(record.modified)).total_seconds()


# --- automatic retries under a policy --------------------------------------------------------------


def test_a_job_that_deadlocks_twice_is_retried_with_backoff_and_ends_resolved_after_3_attempts(drain):
	method = "job_center_jobs.deadlock_twice"
	policy = make_policy(method)
	run_key = key()
	enqueue("deadlock_twice", tag=run_key)
	drain()

	capture()
	first = only_record(method=method)
	assert (first.status, first.attempts, first.retry_policy) == ("Retrying", 1, policy.name)
	assert first.exception_type == "frappe.exceptions.QueryDeadlockError"
	assert first.queue == "short" and first.user == "Administrator"
	assert first.error_log  # execute_job's Error Log of that run
	assert 29 <= backoff_of(first) <= 60  # base 60 with equal jitter
	assert capture()["recorded"] == 0  # nothing new: the same failure is not counted twice
	assert only_record(method=method).attempts == 1

	# not due yet: nothing is enqueued
	assert capture()["retries_enqueued"] == 0 and pending_jobs() == 0
	make_due(first.name)
	assert capture()["retries_enqueued"] == 1
	retrying = only_record(method=method)
	assert retrying.status == "Retrying" and not retrying.next_retry_at
	job = Job.fetch(retrying.last_retry_job_id, connection=get_redis_conn())
	assert job.kwargs["kwargs"] == {"tag": run_key} and job.origin == get_queue("short").name
	assert job.id != first.job_id
	drain()

	# the retry failed too (recorded by its failure callback): attempt 2, a longer backoff
	second = only_record(method=method)
	assert (second.status, second.attempts) == ("Retrying", 2)
	assert 59 <= backoff_of(second) <= 120
	make_due(second.name)
	capture()
	drain()

	resolved = only_record(method=method)
	assert (resolved.status, resolved.attempts) == ("Resolved", 3)
	assert resolved.resolved_at and not resolved.next_retry_at
	assert job_center_jobs.runs(run_key) == 3
	assert frappe.db.exists("ToDo", {"description": f"job center {run_key}"})
	assert capture()["recorded"] == 0 and only_record(method=method).status == "Resolved"


def drive_until_given_up(name, drain, limit=6):
	for _ in range(limit):
		record = only_record(name=name)
		if record.status != "Retrying":
			return record
		make_due(name)
		capture()
		drain()
	raise AssertionError("the job never gave up")


def test_a_job_that_always_fails_stops_at_max_attempts_with_one_notification(drain):
	method = "job_center_jobs.always_deadlocks"
	make_policy(method, max_attempts=3)
	manager = make_user("jc.manager@myapp.test", ["System Manager"])
	frappe.db.commit()
	run_key = key()
	enqueue("always_deadlocks", tag=run_key)
	drain()
	capture()
	record = drive_until_given_up(only_record(method=method).name, drain)
	assert (record.status, record.attempts, record.next_retry_at) == ("Open", 3, None)
	assert "Gave up after 3 attempts" in record.retry_note
	assert job_center_jobs.runs(run_key) == 3
	sent = queued_emails(reference_doctype=DOCTYPE)
	assert len(sent) == 1 and addresses_of_test_users(sent[0].recipients) == [manager]
	assert method in sent[0].message

	# the same method gives up again with other arguments within the quiet period: no second email
	other_key = key()
	enqueue("always_deadlocks", tag=other_key)
	drain()
	capture()
	other = [r for r in records(method=method) if r.name != record.name][0]
	assert drive_until_given_up(other.name, drain).status == "Open"
	assert len(queued_emails(reference_doctype=DOCTYPE)) == 1

	# a capture run later changes nothing
	capture()
	assert [r.attempts for r in records(method=method)] == [3, 3]


# --- capture: idempotent, deduplicated, killed jobs ----------------------------------------------


def test_capture_twice_and_on_four_workers_at_once_records_each_failure_once(drain):
	keys = [key() for _ in range(20)]
	for run_key in keys:
		enqueue("fails", tag=run_key)
	same = key()
	enqueue("fails", tag=same)  # the same failure twice: one record, attempts 2
	enqueue("fails", tag=same, queue="default")
	drain()

	capture()
	assert capture()["recorded"] == 0
	expected = {**{k: 1 for k in keys}, same: 2}

	def assert_recorded_once():
		rows = records(method="job_center_jobs.fails")
		by_key = {json.loads(r.arguments)["tag"]: r for r in rows}
		assert {k: r.attempts for k, r in by_key.items()} == expected
		for row in rows:
			assert len(row.job_ids.split()) == row.attempts and row.status == "Open"
			assert row.exception_type == "ValueError"
		assert by_key[same].first_failed_at <= by_key[same].last_failed_at

	assert_recorded_once()

	# again from nothing, four captures on four workers at once (and the Redis set forgotten)
	frappe.db.delete(DOCTYPE)
	frappe.db.commit()
	get_redis_conn().delete(recorded_set_key())
	for _ in range(4):
		frappe.enqueue("myapp.job_center.capture_failed_jobs", queue="short")
	drain(workers=4)
	assert_recorded_once()
	assert not frappe.get_all("Error Log", filters={"method": ("like", "Failed Job capture%")})


def test_the_same_failure_recorded_by_callback_and_capture_counts_once(drain):
	"""A failure is recorded at once in the worker (the after_job hook), and this app's own jobs
	(enqueue_once) by their failure callback too, with the real exception: the same job id counts
	once, and the capture finds it remembered and adds nothing."""
	from myapp.utils.jobs import enqueue_once

	run_key = key()
	enqueue_once(job_center_jobs.fails, f"jc-{run_key}", queue="short", tag=run_key)
	drain()
	record = only_record(method="job_center_jobs.fails")  # before any capture
	assert (record.attempts, record.exception_type) == (1, "ValueError")
	assert "cannot process" in record.exception_message and "Traceback" in record.traceback
	assert get_redis_conn().sismember(recorded_set_key(), record.job_id)
	assert capture()["recorded"] == 0
	assert only_record(method="job_center_jobs.fails").attempts == 1


@contextmanager
def failed_jobs_limit(limit, *sites):
	"""v15's `rq_failed_jobs_limit` (RQ's failed jobs kept per queue) set on `sites` for the block:
	a real bench needs about a second of a worker per failing job, so its run keeps 100, not 1,000."""
	if limit == 1000:
		yield
		return
	import os

	from frappe.installer import update_site_config

	paths = [os.path.join(sites_path, site, "site_config.json") for site, sites_path in sites]
	for path in paths:
		update_site_config("rq_failed_jobs_limit", limit, site_config_path=path)
	try:
		yield
	finally:
		for path in paths:
			update_site_config("rq_failed_jobs_limit", "None", site_config_path=path)
		# update_site_config also writes the value into this process's conf: "None", a string
		frappe.local.conf.pop("rq_failed_jobs_limit", None)


def test_failures_of_two_sites_beyond_rqs_limit_are_each_recorded_by_their_own_site(
	drain, other_site, site, sites_path
):
	"""1,500 failures on one queue from two sites (150 with a limit of 100 on a bench): RQ's
	failed registry keeps 1,000 for the whole bench (Frappe's truncate_failed_registry keeps the
	oldest and drops each newer failure at the next one, long before a scheduled read), yet every
	failure of this site is a Failed Job before any capture runs, and none of the other site's."""
	from support import connected_to, drain_queues

	other, other_sites_path = other_site
	limit = 100 if BENCH_SITE else 1000
	other_count = this_count = limit * 3 // 4
	run_key = key()
	with failed_jobs_limit(limit, (site, sites_path), (other, other_sites_path)):
		with connected_to(other, other_sites_path):
			frappe.db.delete(DOCTYPE, {"method": "job_center_jobs.fails"})  # an earlier run's, if any
			frappe.db.commit()
			for n in range(other_count):
				enqueue("fails", tag=f"{run_key}-other-{n}", timeout=3600)
			# first, so the registry is full of older failures when this site's jobs fail
			drain_queues(workers=2, queues="short", sites_path=other_sites_path, timeout=900)
			other_recorded = frappe.db.count(
				DOCTYPE, {"method": "job_center_jobs.fails", "arguments": ("like", f"%{run_key}-other-%")}
			)
			frappe.db.delete(DOCTYPE, {"method": "job_center_jobs.fails"})
			frappe.db.delete("Error Log", {"method": "job_center_jobs.fails"})
			frappe.db.commit()
		assert other_recorded == other_count  # the other site recorded its own

		# a generous timeout: on a loaded machine a job was once killed by the short queue's 300 s
		jobs = [enqueue("fails", tag=f"{run_key}-this-{n}", timeout=3600) for n in range(this_count)]
		drain(workers=2, queues="short", timeout=900)

	registry = get_queue("short").failed_job_registry
	in_registry = {i.decode() for i in get_redis_conn().zrange(registry.key, 0, -1)}
	assert len(in_registry) == limit  # rq_failed_jobs_limit: the rest were dropped
	this_site_left = in_registry & {job.id for job in jobs}
	assert len(this_site_left) < this_count

	rows = records(method="job_center_jobs.fails")
	tags = {json.loads(row.arguments)["tag"] for row in rows}
	assert tags == {f"{run_key}-this-{n}" for n in range(this_count)}
	assert {row.job_id for row in rows} == {job.id for job in jobs}
	odd = [
		(row.job_id, row.attempts, row.exception_type)
		for row in rows
		if row.attempts != 1 or row.exception_type != "ValueError"
	]
	assert not odd
	assert capture()["recorded"] == 0  # nothing left for the scheduled read


def wait_for(condition, message, timeout=60):
	deadline = time.monotonic() + timeout
	while not (result := condition()):
		assert time.monotonic() < deadline, message
		time.sleep(0.1)
	return result


def horse_of(worker):
	return wait_for(lambda: psutil.Process(worker.pid).children(recursive=True), "no work horse")[0]


def test_sigkilled_jobs_are_recorded(drain):
	# the work horse killed (OOM killer): its worker moves the job to the failed registry
	horse_key = key()
	job = enqueue("sleeps", tag=horse_key)
	frappe.db.commit()
	worker = start_worker("short", burst=False)
	wait_for(lambda: job_center_jobs.runs(horse_key) == 1, "the job never started")
	horse_of(worker).kill()
	wait_for(lambda: job.get_status(refresh=True) == "failed", "the killed job was never failed")
	worker.kill()
	worker.wait(timeout=30)

	# worker and horse killed (a lost machine): the job stays "started" until its heartbeat expires
	abandoned_key = key()
	abandoned = enqueue("sleeps", tag=abandoned_key)
	frappe.db.commit()
	worker = start_worker("short", burst=False)
	wait_for(lambda: job_center_jobs.runs(abandoned_key) == 1, "the job never started")
	horse = horse_of(worker)
	psutil.Process(worker.pid).kill()
	horse.kill()
	worker.wait(timeout=30)
	registry = get_queue("short").started_job_registry
	assert abandoned.id in registry.get_job_ids()
	# its heartbeat expired (the registry's score is the expiry time): no sleeping
	get_redis_conn().zadd(registry.key, {abandoned.id: time.time() - 1})

	capture()
	by_job = {r.job_id: r for r in records(method="job_center_jobs.sleeps")}
	assert by_job[job.id].exception_type == "WorkHorseTerminated"
	assert by_job[abandoned.id].exception_type == "rq.exceptions.AbandonedJobError"
	assert len(by_job) == 2 and all(r.status == "Open" for r in by_job.values())
	assert abandoned.get_status(refresh=True) == "failed"


# --- manual retry ---------------------------------------------------------------------------------


def failed_record(drain, method="fails", **kwargs):
	enqueue(method, tag=key(), **kwargs)
	drain()
	capture()
	return only_record(method=f"job_center_jobs.{method}")


def test_retry_is_refused_without_system_manager_and_runs_as_the_original_user(drain):
	owner = make_user("jc.owner@myapp.test", ["Sales User"])
	frappe.db.commit()
	frappe.set_user(owner)
	try:
		enqueue("fails", tag="owned")
	finally:
		frappe.set_user("Administrator")
	drain()
	capture()
	record = only_record(method="job_center_jobs.fails")
	assert record.user == owner

	clerk = make_user("jc.clerk@myapp.test", ["Sales Manager"])
	manager = make_user("jc.sm@myapp.test", ["System Manager"])
	frappe.db.commit()
	for user in (clerk, "Guest"):
		with pytest.raises(frappe.PermissionError):
			call_endpoint("myapp.api.retry_failed_job", user=user, name=record.name)
		with pytest.raises(frappe.PermissionError):
			call_endpoint("myapp.api.retry_failed_jobs", user=user, names=json.dumps([record.name]))
	with pytest.raises(frappe.PermissionError):  # a GET is not an action
		call_endpoint("myapp.api.retry_failed_job", http_method="GET", user=manager, name=record.name)
	assert only_record(name=record.name).status == "Open"

	result = call_endpoint("myapp.api.retry_failed_job", user=manager, name=record.name)
	frappe.db.commit()
	retried = only_record(name=record.name)
	assert (retried.status, retried.acted_by) == ("Retrying", manager)
	job = Job.fetch(result["job_id"], connection=get_redis_conn())
	assert job.kwargs["user"] == owner and job.kwargs["kwargs"] == {"tag": "owned"}
	assert job.origin == get_queue("short").name and job.id != record.job_id
	with pytest.raises(frappe.ValidationError):  # its retry is still queued
		call_endpoint("myapp.api.retry_failed_job", user=manager, name=record.name)

	drain()
	again = only_record(name=record.name)
	assert (again.status, again.attempts) == ("Open", 2)  # the retry failed as well

	other = failed_record(
		drain, method="fails_with_secret_in_message", api_key="k-123456", password="p-123456"
	)

	# edited arguments: validated, recorded, used
	with pytest.raises(frappe.ValidationError):
		call_endpoint("myapp.api.retry_failed_job", user=manager, name=record.name, arguments="{not json")
	with pytest.raises(frappe.ValidationError):
		call_endpoint("myapp.api.retry_failed_job", user=manager, name=record.name, arguments="[1, 2]")
	result = call_endpoint(
		"myapp.api.retry_failed_job", user=manager, name=record.name, arguments='{"tag": "edited"}'
	)
	frappe.db.commit()
	assert Job.fetch(result["job_id"], connection=get_redis_conn()).kwargs["kwargs"] == {"tag": "edited"}
	assert json.loads(only_record(name=record.name).edited_arguments) == {"tag": "edited"}
	assert frappe.db.exists(
		"Comment", {"reference_doctype": DOCTYPE, "reference_name": record.name, "comment_type": "Info"}
	)

	# bulk retry from the list: the one with a queued retry is refused, the others go
	result = call_endpoint(
		"myapp.api.retry_failed_jobs", user=manager, names=json.dumps([record.name, other.name])
	)
	assert result["retried"] == [other.name] and [e["name"] for e in result["errors"]] == [record.name]


def test_secrets_never_appear_in_a_record_and_a_retry_still_has_them(drain):
	api_key, password = "sk-live-TOPSECRET-4242", "hunter2-PASSWORD"
	record = failed_record(drain, "fails_with_secret_in_message", api_key=api_key, password=password)
	frappe.enqueue(
		job_center_jobs.fails, queue="short", tag="secret-kwargs",
		auth_token="tok-SECRET-777", nested={"Authorization": "Bearer SECRET-BEARER"}, blob="x" * 5000,
	)  # fmt: skip
	drain()
	capture()
	rows = records()
	assert len(rows) == 2
	for row in rows:
		stored = json.dumps(row, default=str)
		for secret in (api_key, password, "tok-SECRET-777", "SECRET-BEARER"):
			assert secret not in stored, (secret, row.name)
		assert not row.arguments_complete
	assert "********" in record.exception_message and "login refused" in record.exception_message
	arguments = json.loads(only_record(method="job_center_jobs.fails").arguments)
	assert arguments["auth_token"] == "********" and arguments["nested"]["Authorization"] == "********"
	assert len(arguments["blob"]) < 1100 and "characters cut" in arguments["blob"]

	# RQ still holds the job: the retry runs with the real secrets
	result = call_endpoint("myapp.api.retry_failed_job", name=record.name)
	frappe.db.commit()
	job = Job.fetch(result["job_id"], connection=get_redis_conn())
	assert job.kwargs["kwargs"]["api_key"] == api_key
	# once RQ has forgotten the job, the redacted arguments are not run: edited ones are needed
	frappe.db.set_value(DOCTYPE, record.name, {"status": "Open", "job_id": "gone::job"})
	frappe.db.commit()
	with pytest.raises(frappe.ValidationError, match="edited arguments"):
		call_endpoint("myapp.api.retry_failed_job", name=record.name)


def test_a_failed_import_is_not_retried_blindly_and_its_retry_resumes(drain):
	from user_jobs_helpers import upload_csv

	from myapp.job_center import Failure, record_failure

	make_policy(BROAD_TEST_PATTERN, max_attempts=5)  # a broad policy must not catch the import
	file_url = upload_csv("jc.csv", [["description"], ["a"], ["b"]])
	log = frappe.get_doc(
		{"doctype": "CSV Import Log", "import_file": file_url, "reference_doctype": "ToDo"}
	).insert(ignore_permissions=True)
	frappe.db.set_value("CSV Import Log", log.name, "status", "Error")
	name = record_failure(
		Failure(
			method="myapp.importer.run_csv_import",
			job_id=f"{frappe.local.site}::import::ToDo::x",
			site=frappe.local.site,
			queue="long",
			user="Administrator",
			kwargs={"import_log_name": log.name, "retry_failed_rows": 0},
			exception_type="frappe.exceptions.QueryDeadlockError",
			exception_message="deadlock",
			failed_at=now_datetime(),
		)
	)
	frappe.db.commit()
	record = only_record(name=name)
	assert record.status == "Open" and not record.next_retry_at and not record.retry_policy
	assert "Start Import" in record.retry_note

	result = call_endpoint("myapp.api.retry_failed_job", name=name)
	frappe.db.commit()
	assert result["status"] == "Retried" and result["import_log"] == log.name
	assert frappe.db.get_value("CSV Import Log", log.name, "status") == "Queued"
	assert pending_jobs(("long",)) == 1  # the import's own job, through its own claim
	drain()
	assert frappe.db.get_value("CSV Import Log", log.name, "status") == "Success"


# --- operate: bench commands, workspace card, maintenance -----------------------------------------


def test_bench_commands_show_queues_list_and_retry(drain, sites_path, site, monkeypatch):
	from click.testing import CliRunner

	from myapp.commands import commands

	record = failed_record(drain)
	enqueue("fails", tag="waiting")  # queued, no worker
	frappe.db.commit()
	group = commands[0]
	runner = CliRunner()
	obj = {"sites": [site], "force": False, "profile": False}
	monkeypatch.chdir(sites_path)  # bench runs its commands in the sites folder
	try:
		out = runner.invoke(group, ["jobs"], obj=obj)
		assert out.exit_code == 0, out.output
		short = next(line for line in out.output.splitlines() if line.startswith("short"))
		assert short.split()[1:] == ["1", "(1)", "0", "(0)", "1", "(1)"]
		assert "Open Failed Jobs: 1" in out.output

		out = runner.invoke(group, ["failed"], obj=obj)
		assert out.exit_code == 0 and record.name in out.output and "ValueError" in out.output

		out = runner.invoke(group, ["retry"], obj=obj)
		assert out.exit_code != 0  # a NAME or --method
		out = runner.invoke(group, ["retry", "--method", "job_center_jobs.fails"], obj=obj)
		assert out.exit_code == 0, out.output
		assert f"{record.name}: Retrying" in out.output
		out = runner.invoke(group, ["retry", record.name], obj=obj)
		assert out.exit_code == 1 and "queued or running" in out.output
	finally:
		connect_site()
	assert only_record(name=record.name).status == "Retrying"


def test_run_command_runs_a_job_through_the_queue_and_shows_its_progress_and_end(
	sites_path, site, monkeypatch
):
	from click.testing import CliRunner

	from myapp.commands import commands

	group, runner = commands[0], CliRunner()
	obj = {"sites": [site], "force": False, "profile": False}
	monkeypatch.chdir(sites_path)
	maintenance = "myapp.maintenance.daily_database_maintenance"
	start_worker("long", burst=False)
	try:
		out = runner.invoke(group, ["run", maintenance, "--queue", "long"], obj=obj)
		assert out.exit_code == 0, out.output
		lines = out.output.splitlines()
		assert lines[0].startswith(f"Enqueued {maintenance} on long as job ")
		steps = [line.split()[0] for line in lines if "Database maintenance" in line]
		assert steps == ["20%", "40%", "60%", "80%", "100%"] and "5 of 5" in lines[-2]
		assert lines[-1].startswith("Finished. Result: {'error_logs_deleted': 0, ")

		# a wrong argument: the job fails in the worker, and its Failed Job is named
		args = ["run", maintenance, "--queue", "long", "--kwargs", '{"days": 3}']
		out = runner.invoke(group, args, obj=obj)
		assert out.exit_code == 1, out.output
		assert "Job failed: TypeError: daily_database_maintenance() got an unexpected keyword" in out.output
		connect_site()
		record = only_record(method=maintenance)
		assert f"Failed Job: {record.name} (bench --site {site} myapp retry {record.name})" in out.output

		for bad, message in (
			(["run", "myapp.maintenance.no_such_job"], "Cannot find myapp.maintenance.no_such_job"),
			(["run", maintenance, "--kwargs", "[1]"], "must be a JSON object"),
			(["run", maintenance, "--kwargs", "{days"], "not JSON"),
		):
			out = runner.invoke(group, bad, obj=obj)
			assert out.exit_code == 2 and message in out.output, out.output
	finally:
		connect_site()
	assert pending_jobs(("default",)) == 0  # the refused runs enqueued nothing


def test_open_failed_jobs_card_and_maintenance_prunes_closed_records(drain):
	from frappe.desk.doctype.number_card.number_card import get_result

	from myapp.maintenance import daily_database_maintenance

	for _ in range(3):
		enqueue("fails", tag=key())
	drain()
	capture()
	names = [r.name for r in records()]
	card = frappe.get_doc("Number Card", "Open Failed Jobs")
	assert get_result(card.as_dict(), card.filters_json) == 3

	old = add_to_date(now_datetime(), days=-31)
	for name, status in zip(names, ("Resolved", "Ignored", "Open"), strict=True):
		frappe.db.set_value(DOCTYPE, name, {"status": status, "modified": old}, update_modified=False)
	frappe.db.commit()
	assert get_result(card.as_dict(), card.filters_json) == 1
	stats = daily_database_maintenance()
	assert stats["failed_jobs_deleted"] == 2
	assert [r.name for r in records()] == [names[2]]  # an Open one stays however old


def test_an_operator_closing_a_record_is_recorded(drain):
	record = failed_record(drain)
	manager = make_user("jc.closer@myapp.test", ["System Manager"])
	frappe.db.commit()
	frappe.set_user(manager)
	try:
		doc = frappe.get_doc(DOCTYPE, record.name)
		doc.status = "Ignored"
		doc.save()
		doc.status = "Retrying"
		with pytest.raises(frappe.ValidationError):
			doc.save()
	finally:
		frappe.set_user("Administrator")
	frappe.db.commit()
	assert only_record(name=record.name).acted_by == manager
	# the same failure again stays Ignored and is counted
	enqueue("fails", tag=json.loads(record.arguments)["tag"])
	drain()
	capture()
	assert (only_record(name=record.name).status, only_record(name=record.name).attempts) == ("Ignored", 2)
