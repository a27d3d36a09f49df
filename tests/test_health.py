"""Workflow 8: the scheduler health check on real Scheduled Job Logs, real RQ workers and queues:
thresholds on both sides, a stuck job, a dead worker, busy workers, alerts, quiet period, recovery."""

import datetime
import time
import uuid

import frappe
import health_jobs
import pytest
from conftest import addresses_of_test_users, drain_queues, make_user, queued_emails, start_worker
from frappe.utils import now_datetime
from frappe.utils.background_jobs import enqueue
from mail_content import html_part, subject

from myapp.health import bench_workers, plan_alerts, run_health_check

METHOD = "myapp.tasks.scheduler_health_check"
SETTINGS = "Scheduler Health Settings"


@pytest.fixture
def manager():
	"""A System Manager: the default recipient of the alerts."""
	user = make_user("ops.manager@myapp.test", roles=["System Manager"])
	frappe.db.commit()
	return user


@pytest.fixture
def worker():
	"""A long-running (non-burst) worker on all queues, stopped after the test."""
	process = start_worker(burst=False)
	wait_for(lambda: len(bench_workers()) == 1, "the worker to register")
	yield process
	stop_worker(process)


def stop_worker(process):
	if process.poll() is None:
		process.terminate()  # SIGTERM: RQ's warm shutdown, the worker deregisters
		process.communicate(timeout=60)


def wait_for(condition, what, seconds=60):
	deadline = time.monotonic() + seconds
	while not condition():
		if time.monotonic() > deadline:
			raise AssertionError(f"timed out waiting for {what}")
		time.sleep(0.05)


def set_settings(**values):
	for field, value in values.items():
		frappe.db.set_single_value(SETTINGS, field, value)
	frappe.db.commit()


def job_log(status, age_minutes, job_type="tasks.daily_cleanup"):
	doc = frappe.get_doc({"doctype": "Scheduled Job Log", "scheduled_job_type": job_type}).insert(
		ignore_permissions=True
	)
	doc.db_set("status", status)
	when = now_datetime() - datetime.timedelta(minutes=age_minutes)
	frappe.db.sql(
		"update `tabScheduled Job Log` set creation=%s, modified=%s where name=%s", (when, when, doc.name)
	)
	return doc.name


def health_alerts():
	return frappe.get_all(
		"Error Log", filters={"method": ("like", "Scheduler health%")}, fields=["method", "error"]
	)


def alert_emails():
	return [m for m in queued_emails() if subject(m.message).startswith("Scheduler Health Alert")]


def recovery_emails():
	return [m for m in queued_emails() if subject(m.message).startswith("Scheduler Health Recovered")]


# --- registration -------------------------------------------------------------------------------


def test_registered_every_15_minutes():
	job_type = frappe.get_doc("Scheduled Job Type", {"method": METHOD})
	assert (job_type.frequency, job_type.cron_format) == ("Cron", "*/15 * * * *")
	job_type.last_execution = datetime.datetime(2024, 6, 7, 9, 0)
	assert not job_type.is_event_due(datetime.datetime(2024, 6, 7, 9, 14, 59))
	assert job_type.is_event_due(datetime.datetime(2024, 6, 7, 9, 15))


# --- the checks, each on both sides of its threshold ----------------------------------------------


def test_failed_scheduled_jobs_over_the_threshold_in_the_last_hour(worker):
	for _ in range(5):
		job_log("Failed", age_minutes=10)
	job_log("Failed", age_minutes=61)  # outside the hour
	job_log("Complete", age_minutes=5)
	frappe.db.commit()
	assert "failed_scheduled_jobs" not in run_health_check()["issues"]  # 5 is not over 5

	job_log("Failed", age_minutes=59)
	frappe.db.commit()
	issues = run_health_check()["issues"]
	assert "6 scheduled jobs failed in the last hour" in issues["failed_scheduled_jobs"]
	assert "tasks.daily_cleanup" in issues["failed_scheduled_jobs"]


def test_a_job_in_start_for_more_than_30_minutes_is_stuck(worker):
	job_log("Start", age_minutes=29)
	job_log("Complete", age_minutes=120)
	frappe.db.commit()
	assert "stuck_scheduled_jobs" not in run_health_check()["issues"]

	job_log("Start", age_minutes=31, job_type="tasks.weekday_summary_email")
	frappe.db.commit()
	issues = run_health_check()["issues"]
	assert "1 scheduled jobs have been running for more than 30 minutes" in issues["stuck_scheduled_jobs"]
	assert "tasks.weekday_summary_email" in issues["stuck_scheduled_jobs"]


def test_queue_backlog_per_queue_over_its_threshold(worker):
	stop_worker(worker)  # nothing may take the jobs off the queue
	set_settings(short_queue_backlog=2, long_queue_backlog=0)
	for _ in range(2):
		enqueue(health_jobs.noop, queue="short")
	issues = run_health_check()["issues"]
	assert "backlog:short" not in issues and "backlog:long" not in issues

	enqueue(health_jobs.noop, queue="short")
	enqueue(health_jobs.noop, queue="long")
	issues = run_health_check()["issues"]
	assert issues["backlog:short"] == "3 jobs wait in the short queue (threshold 2)."
	assert issues["backlog:long"] == "1 jobs wait in the long queue (threshold 0)."
	assert "backlog:default" not in issues


def test_failed_background_jobs_of_this_site(worker):
	stop_worker(worker)
	set_settings(failed_background_jobs_threshold=1)
	enqueue(health_jobs.fail, message="first")
	drain_queues()
	assert "failed_background_jobs" not in run_health_check()["issues"]

	enqueue(health_jobs.fail, message="second")
	drain_queues()
	issues = run_health_check()["issues"]
	assert "2 background jobs failed in the last hour" in issues["failed_background_jobs"]
	assert "health_jobs.fail" in issues["failed_background_jobs"]
	# an hour later they are old news
	later = run_health_check(now=now_datetime() + datetime.timedelta(minutes=61))["issues"]
	assert "failed_background_jobs" not in later


def test_no_worker_alive():
	assert bench_workers() == []
	issues = run_health_check()["issues"]
	assert "No background worker is running" in issues["no_workers"]


def test_a_dead_worker_alerts_and_its_return_is_noted_as_recovered(manager):
	# a real bench queues side jobs on inserts (the manager user's): none may wait during the test
	drain_queues()
	process = start_worker(burst=False)
	wait_for(lambda: len(bench_workers()) == 1, "the worker to register")
	assert "no_workers" not in run_health_check()["issues"]
	assert alert_emails() == []

	stop_worker(process)  # the worker dies
	assert bench_workers() == []
	result = run_health_check()
	assert result["alerted"] == ["no_workers"]
	[mail] = alert_emails()
	assert addresses_of_test_users(mail.recipients) == ["ops.manager@myapp.test"]
	assert "No background worker is running" in html_part(mail.message)
	[error] = health_alerts()
	assert "No background worker is running" in error.error

	process = start_worker(burst=False)  # back again
	try:
		wait_for(lambda: len(bench_workers()) == 1, "the worker to register")
		result = run_health_check()
	finally:
		stop_worker(process)
	assert result["recovered"] == ["no_workers"] and result["alerted"] == []
	[note] = recovery_emails()
	assert addresses_of_test_users(note.recipients) == ["ops.manager@myapp.test"]
	assert "No background worker is running" in html_part(note.message)
	assert len(alert_emails()) == 1 and len(health_alerts()) == 1  # a recovery is no new alert


def test_every_worker_busy_while_jobs_wait(worker):
	key = uuid.uuid4().hex
	enqueue(health_jobs.hold_worker, key=key)
	try:
		wait_for(lambda: health_jobs.started(key), "the worker to start the job")
		assert "workers_busy" not in run_health_check()["issues"]  # busy, but nothing waits

		enqueue(health_jobs.noop)
		issues = run_health_check()["issues"]
		assert issues["workers_busy"] == "All 1 background workers are busy while 1 jobs wait in the queues."
	finally:
		health_jobs.release(key)


# --- alerting: email + Error Log, quiet period, recipients ----------------------------------------


def test_an_alert_is_an_email_and_an_error_log_then_quiet_for_the_quiet_period(manager):
	now = now_datetime()
	first = run_health_check(now=now)
	assert first["alerted"] == ["no_workers"]
	assert len(alert_emails()) == 1 and len(health_alerts()) == 1

	# the same condition 15 minutes and 1:59 later: no new alert
	assert run_health_check(now=now + datetime.timedelta(minutes=15))["alerted"] == []
	assert run_health_check(now=now + datetime.timedelta(minutes=119))["alerted"] == []
	assert len(alert_emails()) == 1 and len(health_alerts()) == 1

	# past the quiet period (2 hours): alerted again
	assert run_health_check(now=now + datetime.timedelta(minutes=120))["alerted"] == ["no_workers"]
	assert len(alert_emails()) == 2 and len(health_alerts()) == 2


def test_a_new_condition_alerts_during_another_ones_quiet_period(manager):
	now = now_datetime()
	run_health_check(now=now)
	job_log("Start", age_minutes=45)
	frappe.db.commit()

	result = run_health_check(now=now + datetime.timedelta(minutes=15))

	assert result["alerted"] == ["stuck_scheduled_jobs"]
	[_first, second] = alert_emails()
	html = html_part(second.message)
	assert "running for more than 30 minutes" in html
	assert "No background worker is running" in html  # listed as still present


def test_recipients_are_the_role_plus_other_addresses_from_settings():
	make_user("ops.manager@myapp.test", roles=["System Manager"])
	make_user("disabled.manager@myapp.test", roles=["System Manager"], enabled=0)
	make_user("clerk@myapp.test", roles=["Sales User"])
	set_settings(extra_recipients="oncall@myapp.test\npager@myapp.test")

	run_health_check()

	[mail] = alert_emails()
	assert {"ops.manager@myapp.test", "oncall@myapp.test", "pager@myapp.test"} <= set(mail.recipients)
	assert "disabled.manager@myapp.test" not in mail.recipients
	assert "clerk@myapp.test" not in mail.recipients


def test_administrator_is_never_a_recipient_through_a_role(manager):
	"""On a real site Administrator holds every role (and on a site whose setup wizard never ran,
	the placeholder address admin@example.com): it gets no alert through the recipient role."""
	if not frappe.db.exists("Has Role", {"parent": "Administrator", "role": "System Manager"}):
		admin = frappe.get_doc("User", "Administrator")
		admin.append("roles", {"role": "System Manager"})
		admin.save(ignore_permissions=True)
	frappe.db.set_value("User", "Administrator", "email", "admin@example.com")
	frappe.db.commit()

	run_health_check()

	[mail] = alert_emails()
	assert addresses_of_test_users(mail.recipients) == [manager]
	assert "admin@example.com" not in mail.recipients


def test_an_invalid_other_address_does_not_stop_the_alert():
	make_user("ops.manager@myapp.test", roles=["System Manager"])
	# saved before validation existed, or with frappe.db.set_single_value
	set_settings(extra_recipients="not an address, oncall@myapp.test")

	run_health_check()

	[mail] = alert_emails()
	assert {"ops.manager@myapp.test", "oncall@myapp.test"} <= set(mail.recipients)


def test_settings_reject_an_invalid_other_address():
	settings = frappe.get_single(SETTINGS)
	settings.extra_recipients = "oncall@myapp.test\nnot an address"
	with pytest.raises(frappe.InvalidEmailAddressError):
		settings.save()


def test_disabled_checks_nothing(manager):
	set_settings(enabled=0)
	assert run_health_check()["issues"] == {}
	assert alert_emails() == [] and health_alerts() == []


def test_the_scheduled_run_in_a_worker_does_not_count_its_own_worker_as_busy(manager):
	job_type = frappe.get_doc("Scheduled Job Type", {"method": METHOD})
	job_type.enqueue(force=True)
	enqueue(health_jobs.noop)  # waits behind the health check on the one worker
	drain_queues()

	assert frappe.get_all(
		"Scheduled Job Log", filters={"scheduled_job_type": job_type.name}, pluck="status"
	) == ["Complete"]
	# the burst worker running it was alive and only busy with the check itself
	assert alert_emails() == [] and health_alerts() == []
	assert frappe.db.get_single_value(SETTINGS, "alert_state") is None  # nothing was ever open


# --- the alert planner --------------------------------------------------------------------------


def test_plan_alerts():
	t0 = datetime.datetime(2024, 6, 7, 9, 0)
	alert, recovered, state = plan_alerts({"a": "A"}, {}, t0, 120)
	assert alert == {"a": "A"} and recovered == {}
	assert state == {"a": {"since": str(t0), "alerted_at": str(t0), "message": "A"}}

	t1 = t0 + datetime.timedelta(minutes=119)
	alert, recovered, state1 = plan_alerts({"a": "A", "b": "B"}, state, t1, 120)
	assert alert == {"b": "B"} and state1["a"] == state["a"]

	t2 = t0 + datetime.timedelta(minutes=120)
	alert, recovered, state2 = plan_alerts({"a": "A2"}, state1, t2, 120)
	assert alert == {"a": "A2"} and recovered == {"b": state1["b"]}
	assert state2 == {"a": {"since": str(t0), "alerted_at": str(t2), "message": "A2"}}
