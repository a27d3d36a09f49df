"""Background jobs, scheduler and side channels (realtime, email, error log, cache) with
Frappe v15's semantics, on real MariaDB / Redis / RQ workers. They hold for the testbed and
for a real bench alike (see tests/conftest.py)."""

import datetime
import uuid

import frappe
import pytest
import testbed_jobs_fixtures as jobs
from frappe.core.doctype.scheduled_job_type.scheduled_job_type import insert_single_event
from frappe.utils.background_jobs import (
	create_job_id,
	enqueue,
	get_job,
	get_job_status,
	get_queue,
	is_job_enqueued,
)
from testbed_jobs_fixtures import MODULE, recorded

FRIDAY_0900 = datetime.datetime(2024, 6, 7, 9, 0, 0)  # 2024-06-07 is a Friday


def token():
	return uuid.uuid4().hex[:12]


def todo_exists(description):
	return bool(frappe.db.exists("ToDo", {"description": description}))


# --- enqueue / execute_job -------------------------------------------------------------


def test_worker_sees_only_committed_rows(drain):
	description = token()
	frappe.get_doc({"doctype": "ToDo", "description": description}).insert(ignore_permissions=True)
	# not committed: a worker (another connection) must not see it
	enqueue(jobs.report_todo_visible, description=description, key="before")
	drain_without_commit()
	assert recorded("before") is False

	frappe.db.commit()
	enqueue(jobs.report_todo_visible, description=description, key="after")
	drain()
	assert recorded("after") is True


def drain_without_commit():
	# drain() commits first; run one burst worker directly to keep this transaction open
	from conftest import start_worker

	start_worker().communicate(timeout=120)


def test_execute_job_commits_after_the_method(drain):
	description = token()
	job = enqueue(jobs.insert_todo, description=description)
	drain()
	frappe.db.rollback()  # a fresh snapshot (REPEATABLE READ)
	assert todo_exists(description)
	assert job.get_status(refresh=True) == "finished"
	assert job.return_value() == description


def test_failing_job_rolls_back_logs_error_and_fails(drain):
	description = token()
	job = enqueue(jobs.insert_todo_then_fail, description=description)
	drain()
	frappe.db.rollback()
	assert not todo_exists(description)
	assert job.get_status(refresh=True) == "failed"
	logs = frappe.get_all(
		"Error Log", filters={"method": f"{MODULE}.insert_todo_then_fail"}, fields=["error"]
	)
	assert len(logs) == 1
	assert f"boom {description}" in logs[0].error
	assert job.id in get_queue("default").failed_job_registry.get_job_ids()


def test_job_runs_as_the_enqueuing_user_on_the_site(site, drain):
	frappe.set_user("Guest")
	try:
		enqueue(jobs.report_context, key="ctx")
	finally:
		frappe.set_user("Administrator")
	drain()
	assert recorded("ctx") == {"site": site, "user": "Guest"}


def test_job_ids_are_site_namespaced_and_deduplicated(site, drain):
	job = enqueue(jobs.insert_todo, job_id="dedup", deduplicate=True, description="first")
	assert job.id == f"{site}::dedup" == create_job_id("dedup")
	assert is_job_enqueued("dedup")
	assert get_job_status("dedup") == "queued"
	# while queued, a duplicate is not queued
	assert enqueue(jobs.insert_todo, job_id="dedup", deduplicate=True, description="second") is None
	assert get_queue("default").count == 1

	drain()
	assert get_job_status("dedup") == "finished"
	assert not is_job_enqueued("dedup")
	# finished: the id can be used again, with the new arguments
	again = enqueue(jobs.insert_todo, job_id="dedup", deduplicate=True, description="third")
	assert again.id == f"{site}::dedup"
	assert again.kwargs["kwargs"] == {"description": "third"}
	drain()
	frappe.db.rollback()
	assert [todo_exists(d) for d in ("first", "second", "third")] == [True, False, True]


def test_deduplicate_requires_job_id():
	with pytest.raises(frappe.ValidationError):
		enqueue(jobs.insert_todo, deduplicate=True, description="x")


def test_unknown_job_has_no_status():
	assert get_job("no-such-job") is None
	assert get_job_status("no-such-job") is None
	assert not is_job_enqueued("no-such-job")


def test_enqueue_arguments_and_timeouts(site):
	job = enqueue(jobs.insert_todo, queue="long", description="x")
	assert job.origin.endswith(":long")
	assert job.timeout == 1500
	assert job.kwargs == {
		"site": site,
		"user": "Administrator",
		"method": jobs.insert_todo,
		"event": None,
		"job_name": f"{MODULE}.insert_todo",
		"is_async": True,
		"kwargs": {"description": "x"},
	}
	assert enqueue(jobs.insert_todo, queue="short", description="y").timeout == 300
	assert enqueue(jobs.insert_todo, timeout=42, description="z").timeout == 42
	# the default on_failure trims the failed registry
	assert job.failure_callback.__name__ == "truncate_failed_registry"
	with pytest.raises(frappe.ValidationError):
		enqueue(jobs.insert_todo, queue="nope", description="x")


def test_queue_names_and_get_jobs(site):
	from frappe.utils import get_bench_id
	from frappe.utils.background_jobs import get_jobs, get_queue_list, get_workers

	assert get_queue_list() == ["short", "default", "long"]
	assert get_queue_list("long", build_queue_name=True) == [f"{get_bench_id()}:long"]
	enqueue(jobs.insert_todo, queue="short", description="x")
	assert get_jobs(site=site, queue="short")[site] == [jobs.insert_todo]
	assert get_jobs(site=site, key="description")[site] == ["x"]
	assert all(worker.name for worker in get_workers())  # rq Workers registered on this Redis


def test_now_runs_inline_through_frappe_call():
	description = token()
	assert enqueue(jobs.insert_todo, now=True, description=description) == description
	assert todo_exists(description)
	assert get_queue("default").count == 0


def test_enqueue_after_commit_waits_for_the_commit():
	assert enqueue(jobs.insert_todo, enqueue_after_commit=True, description="later") is None
	assert get_queue("default").count == 0
	frappe.db.commit()
	assert get_queue("default").count == 1


def test_callbacks_run_without_site_context(drain):
	ok, bad = token(), token()
	enqueue(jobs.insert_todo, description=ok, on_success=f"{MODULE}.on_success_record")
	enqueue(jobs.insert_todo_then_fail, description=bad, on_failure=f"{MODULE}.on_failure_record")
	drain()
	success = recorded(f"success:{ok}")
	assert success["site"] is None and success["has_db"] is False
	assert success["result"] == ok
	assert success["job_site"] == frappe.local.site
	failure = recorded(f"failure:{bad}")
	assert failure == {"site": None, "error": "ValueError", "message": f"boom {bad}"}


def test_retry_background_job_error_reruns_the_job(drain):
	# v15 retries after a 1 s sleep; the retried run commits. Its finally block then finds
	# no `frappe.local.job` (the context was re-initialised), so RQ records the job as failed.
	description = token()
	job = enqueue(jobs.retry_once, key=f"runs:{description}", description=description)
	drain()
	frappe.db.rollback()
	assert recorded(f"runs:{description}") == 2
	assert todo_exists(description)
	assert job.get_status(refresh=True) == "failed"


# --- scheduled jobs --------------------------------------------------------------------


def job_type(frequency, last_execution, cron_format=None, method=f"{MODULE}.weekday_job"):
	return frappe.get_doc(
		{
			"doctype": "Scheduled Job Type",
			"method": method,
			"frequency": frequency,
			"cron_format": cron_format,
			"last_execution": last_execution,
			"creation": last_execution,
		}
	)


@pytest.mark.parametrize(
	"frequency,last,expected",
	[
		("Hourly", "2024-06-07 09:00:05", "2024-06-07 10:00:00"),
		("Daily", "2024-06-07 09:00:05", "2024-06-08 00:00:00"),
		("Weekly", "2024-06-07 09:00:05", "2024-06-09 00:00:00"),  # Sunday
		("Monthly", "2024-06-07 09:00:05", "2024-07-01 00:00:00"),
		("Yearly", "2024-06-07 09:00:05", "2025-01-01 00:00:00"),
		("All", "2024-06-07 09:01:05", "2024-06-07 09:04:00"),  # scheduler_interval 240 s
	],
)
def test_next_execution_per_frequency(frequency, last, expected):
	doc = job_type(frequency, last)
	expected = datetime.datetime.fromisoformat(expected)
	assert doc.get_next_execution() == expected
	assert not doc.is_event_due(expected - datetime.timedelta(seconds=1))
	assert doc.is_event_due(expected)
	assert doc.get_queue_name() == "default"


@pytest.mark.parametrize(
	"frequency,expected",
	[
		("Hourly Long", "2024-06-07 10:00:00"),
		("Daily Long", "2024-06-08 00:00:00"),
		("Weekly Long", "2024-06-09 00:00:00"),
		("Monthly Long", "2024-07-01 00:00:00"),
	],
)
def test_long_frequencies_use_the_long_queue_on_the_plain_schedule(frequency, expected):
	doc = job_type(frequency, "2024-06-07 09:00:05")
	expected = datetime.datetime.fromisoformat(expected)
	# v15.74 adds no jitter to *_long jobs (15.55 added 1..600 s)
	assert doc.get_next_execution() == expected
	assert not doc.is_event_due(expected - datetime.timedelta(seconds=1))
	assert doc.is_event_due(expected)
	assert doc.get_queue_name() == "long"


def test_cron_weekdays_skip_the_weekend():
	weekdays_at_nine = "0 9 * * 1-5"
	ran_friday = job_type("Cron", FRIDAY_0900 + datetime.timedelta(seconds=3), weekdays_at_nine)
	assert ran_friday.get_next_execution() == datetime.datetime(2024, 6, 10, 9, 0)  # Monday
	assert not ran_friday.is_event_due(datetime.datetime(2024, 6, 8, 9, 0))  # Saturday
	assert not ran_friday.is_event_due(datetime.datetime(2024, 6, 9, 9, 0))  # Sunday

	ran_thursday = job_type("Cron", FRIDAY_0900 - datetime.timedelta(days=1), weekdays_at_nine)
	assert not ran_thursday.is_event_due(FRIDAY_0900 - datetime.timedelta(minutes=1))  # 08:59
	assert ran_thursday.is_event_due(FRIDAY_0900)
	assert ran_thursday.get_queue_name() == "default"


def test_scheduled_job_type_validation_and_naming():
	doc = job_type("Daily", None, method=f"{MODULE}.weekday_job")
	doc.insert()
	assert doc.name == "testbed_jobs_fixtures.weekday_job"
	assert doc.create_log == 1  # forced for everything but "All"
	with pytest.raises(frappe.ValidationError):
		job_type("Cron", None, method=f"{MODULE}.scheduled_ok").insert()
	with pytest.raises(frappe.ValidationError):
		job_type("Cron", None, cron_format="not a cron", method=f"{MODULE}.scheduled_ok").insert()
	frappe.db.rollback()


def scheduled_job_type(method, frequency="Daily"):
	insert_single_event(frequency, method)
	return frappe.get_doc("Scheduled Job Type", {"method": method})


def run_in_process(monkeypatch, method):
	# frappe.get_attr only resolves installed apps: route this test module's path to it
	path = f"{MODULE}.{method.__name__}"
	get_attr = frappe.get_attr
	monkeypatch.setattr(frappe, "get_attr", lambda name: method if name == path else get_attr(name))
	job = scheduled_job_type(path)
	job.execute()
	frappe.db.rollback()
	return frappe.get_all(
		"Scheduled Job Log", filters={"scheduled_job_type": job.name}, fields=["status", "details"]
	)


def test_scheduled_job_log_start_then_complete(monkeypatch):
	logs = run_in_process(monkeypatch, jobs.scheduled_ok)
	assert [log.status for log in logs] == ["Complete"]
	# while the method ran, its log said "Start" (committed before the method runs)
	assert recorded("scheduled_ok") == "Start"
	assert todo_exists("scheduled ok")
	last = frappe.db.get_value("Scheduled Job Type", "testbed_jobs_fixtures.scheduled_ok", "last_execution")
	assert last is not None


def test_scheduled_job_log_start_then_failed_with_traceback(monkeypatch):
	logs = run_in_process(monkeypatch, jobs.scheduled_fail)
	assert [log.status for log in logs] == ["Failed"]
	assert "ValueError: scheduled boom" in logs[0].details
	assert not todo_exists("scheduled fail")  # rolled back


def test_scheduled_jobs_run_in_a_worker(drain):
	# methods of an installed app (frappe): one that completes, one that raises TypeError
	ok = scheduled_job_type("frappe.realtime.get_website_room")
	failing = scheduled_job_type("frappe.realtime.get_user_room")
	for job in (ok, failing):
		assert job.enqueue(force=True) is True
		# one rq job id per method: not queued twice while queued
		assert job.is_job_in_queue()
		assert job.enqueue(force=True) is False
	assert is_job_enqueued("scheduled_job::frappe.realtime.get_website_room")
	drain()

	def statuses(job):
		return frappe.get_all(
			"Scheduled Job Log", filters={"scheduled_job_type": job.name}, fields=["status", "details"]
		)

	assert [log.status for log in statuses(ok)] == ["Complete"]
	failed = statuses(failing)
	assert [log.status for log in failed] == ["Failed"]
	assert "TypeError" in failed[0].details
	# the rq job itself succeeded: run_scheduled_job swallows the exception as v15 does
	assert get_job_status("scheduled_job::frappe.realtime.get_user_room") == "finished"


def test_sync_jobs_creates_and_clears_job_types():
	"""What migrate does with scheduler_events: a job type per method of an installed app (v15's
	get_attr refuses a module of an app that is not installed, so it is skipped), the rest deleted."""
	from frappe.core.doctype.scheduled_job_type.scheduled_job_type import sync_jobs

	sync_jobs(
		{
			"daily_long": ["myapp.tasks.daily_cleanup"],
			"cron": {"0 9 * * 1-5": ["myapp.summary.weekday_summary_email"]},
			"daily": ["not_an_installed_app.tasks.tick"],
		}
	)
	rows = frappe.get_all("Scheduled Job Type", fields=["method", "frequency", "cron_format"])
	by_method = {row.method: row for row in rows}
	assert by_method["myapp.tasks.daily_cleanup"].frequency == "Daily Long"
	assert by_method["myapp.summary.weekday_summary_email"].frequency == "Cron"
	assert by_method["myapp.summary.weekday_summary_email"].cron_format == "0 9 * * 1-5"
	# everything not in these hooks (Frappe's and the app's other jobs) was deleted
	assert len(rows) == 2
	frappe.db.rollback()


def test_scheduler_tick_respects_enable_scheduler():
	from frappe.utils.scheduler import (
		disable_scheduler,
		enable_scheduler,
		enqueue_events,
		get_scheduler_status,
		is_scheduler_disabled,
		schedule_jobs_based_on_activity,
	)

	disable_scheduler()
	assert is_scheduler_disabled(verbose=False)
	assert get_scheduler_status() == {"status": "inactive"}
	enable_scheduler()
	assert not is_scheduler_disabled(verbose=False)

	# an active site (recent Activity Log) runs its due jobs
	frappe.get_doc({"doctype": "Activity Log", "subject": "login"}).insert(ignore_permissions=True)
	schedule_jobs_based_on_activity.clear_cache()
	# an installed app's job (Frappe refuses methods of apps that are not installed)
	frappe.db.set_value(
		"Scheduled Job Type",
		"tasks.daily_cleanup",
		"last_execution",
		datetime.datetime.now() - datetime.timedelta(days=2),
	)
	assert "myapp.tasks.daily_cleanup" in enqueue_events(frappe.local.site)
	assert is_job_enqueued("scheduled_job::myapp.tasks.daily_cleanup")
	frappe.db.rollback()
	disable_scheduler()
	schedule_jobs_based_on_activity.clear_cache()


# --- realtime ---------------------------------------------------------------------------


def test_publish_realtime_rooms(site, realtime_events):
	frappe.publish_realtime("my_event", {"a": 1}, user="Administrator")
	frappe.publish_realtime("my_event", {"b": 2}, doctype="ToDo", docname="T1")
	frappe.publish_realtime("my_event", {"c": 3})
	frappe.publish_realtime("list_update", {"doctype": "ToDo"})
	frappe.publish_realtime(message={"d": 4}, task_id="t-9")
	events = realtime_events()
	assert [(e["event"], e["room"], e["message"]) for e in events] == [
		("my_event", "user:Administrator", {"a": 1}),
		("my_event", "doc:ToDo/T1", {"b": 2}),
		("my_event", "all", {"c": 3}),
		("list_update", "doctype:ToDo", {"doctype": "ToDo"}),
		("task_progress", "task_progress:t-9", {"d": 4, "task_id": "t-9"}),
	]
	assert all(e["namespace"] == site for e in events)


def test_publish_progress(realtime_events):
	frappe.publish_progress(50, title="Half", description="working")
	frappe.publish_progress(75, title="Doc", doctype="ToDo", docname="T1")
	events = realtime_events("progress")
	assert events[0]["room"] == "user:Administrator"
	assert events[0]["message"] == {"percent": 50, "title": "Half", "description": "working"}
	assert events[1]["room"] == "doc:ToDo/T1"


def test_realtime_after_commit_is_deferred_and_dropped_on_rollback(realtime_events):
	frappe.publish_realtime("kept", {"n": 1}, after_commit=True)
	frappe.publish_realtime("kept", {"n": 1}, after_commit=True)  # de-duplicated
	assert realtime_events("kept") == []
	frappe.db.commit()
	assert len(realtime_events("kept")) == 1

	frappe.publish_realtime("dropped", {}, after_commit=True)
	frappe.db.rollback()
	frappe.db.commit()
	assert realtime_events("dropped") == []


def test_realtime_from_a_worker(realtime_events, drain):
	enqueue("frappe.realtime.publish_progress", percent=10, title="from worker")
	drain()
	events = realtime_events("progress")
	assert [(e["room"], e["message"]["title"]) for e in events] == [("user:Administrator", "from worker")]


# --- email, error log, cache ----------------------------------------------------------------


@pytest.fixture
def muted_emails():
	# v15 needs an outgoing Email Account, a mail_server in site config, or muted emails
	muted = frappe.flags.mute_emails
	frappe.flags.mute_emails = True
	yield
	frappe.flags.mute_emails = muted


def test_sendmail_queues_one_row_per_email(muted_emails):
	queue = frappe.sendmail(
		recipients="a@example.com, b@example.com,a@example.com",
		cc=["c@example.com"],
		subject="Hello",
		message="<p>Hi there</p>",
		reference_doctype="ToDo",
		reference_name="T1",
		send_after=1,
	)
	row = frappe.get_doc("Email Queue", queue.name)
	assert row.status == "Not Sent"
	assert (row.reference_doctype, row.reference_name) == ("ToDo", "T1")
	assert row.show_as_cc == "c@example.com"
	assert row.priority == 1
	assert str(row.send_after).startswith(str(frappe.utils.add_days(frappe.utils.nowdate(), 1)))
	assert sorted(r.recipient for r in row.recipients) == ["a@example.com", "b@example.com", "c@example.com"]
	assert {r.status for r in row.recipients} == {"Not Sent"}
	assert "Subject: Hello" in row.message and "Hi there" in row.message
	# the default outgoing account's address
	assert "notifications@myapp.test" in row.sender


def test_sendmail_without_recipients_queues_nothing(muted_emails):
	assert frappe.sendmail(recipients=[], subject="x", message="y") == []
	assert frappe.sendmail(recipients="", subject="x", message="y") == []
	assert frappe.get_all("Email Queue") == []


def test_sendmail_needs_an_outgoing_account():
	"""With no outgoing account, no mail_server and emails not muted, sendmail refuses (v15)."""
	saved_conf = {key: frappe.conf.pop(key, None) for key in ("mute_emails", "mail_server")}
	frappe.flags.mute_emails = False
	frappe.local.outgoing_email_account = {}  # v15 caches the account per request
	frappe.db.sql("update `tabEmail Account` set default_outgoing=0, enable_outgoing=0")
	try:
		with pytest.raises(frappe.OutgoingEmailError):
			frappe.sendmail(recipients="a@example.com", subject="x", message="y")
	finally:
		frappe.db.rollback()
		frappe.conf.update({key: value for key, value in saved_conf.items() if value is not None})
		frappe.local.outgoing_email_account = {}


def test_log_error_argument_order():
	# no message: the current traceback is the error
	assert frappe.log_error("Title only").method == "Title only"
	# title first, as documented
	titled = frappe.log_error(
		title="Sync failed", message="details", reference_doctype="ToDo", reference_name="T1"
	)
	assert (titled.method, titled.error) == ("Sync failed", "details")
	assert (titled.reference_doctype, titled.reference_name) == ("ToDo", "T1")
	# a one-line message first is NOT swapped: it becomes the title
	seed_style = frappe.log_error("API request failed: 500", "External Sync Failed")
	assert (seed_style.method, seed_style.error) == ("API request failed: 500", "External Sync Failed")
	# a multi-line first argument (a traceback) is swapped back
	traceback_first = frappe.log_error("Traceback\nline 2", "Import Failed")
	assert (traceback_first.method, traceback_first.error) == ("Import Failed", "Traceback\nline 2")


def test_error_log_survives_rollback():
	frappe.log_error(title="kept after rollback", message="x")
	frappe.db.rollback()
	assert frappe.db.exists("Error Log", {"method": "kept after rollback"})


def test_cache_is_namespaced_per_site():
	frappe.cache.set_value("tb_jobs_key", {"a": 1})
	raw_key = f"{frappe.conf.db_name}|tb_jobs_key".encode()
	assert frappe.cache.exists("tb_jobs_key")
	assert frappe.cache.get(raw_key) is not None
	frappe.local.cache.clear()
	assert frappe.cache.get_value("tb_jobs_key") == {"a": 1}
	frappe.cache.set_value("tb_jobs_ttl", 5, expires_in_sec=30)
	assert 0 < frappe.cache.ttl(f"{frappe.conf.db_name}|tb_jobs_ttl") <= 30
	assert frappe.cache.get_value("tb_jobs_gen", generator=lambda: "made") == "made"
	assert b"tb_jobs_key" in b" ".join(frappe.cache.get_keys("tb_jobs_"))
	frappe.cache.delete_keys("tb_jobs_")
	frappe.local.cache.clear()
	assert frappe.cache.get_value("tb_jobs_key") is None
