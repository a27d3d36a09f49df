"""Jobs and callbacks that tests/test_testbed_jobs.py enqueues. Workers import them as
`tests.testbed_jobs_fixtures.<name>` (the repo root is on their PYTHONPATH). They report
back through plain keys on the queue's Redis connection, which both processes can read."""

import json

import frappe
from frappe.utils.background_jobs import get_redis_connection_without_auth

KEY_PREFIX = "testbed_jobs_test:"
MODULE = "testbed_jobs_fixtures"


def record(key, value, connection=None):
	(connection or get_redis_connection_without_auth()).set(KEY_PREFIX + key, json.dumps(value, default=str))


def recorded(key):
	value = get_redis_connection_without_auth().get(KEY_PREFIX + key)
	return None if value is None else json.loads(value)


def insert_todo(description):
	frappe.get_doc({"doctype": "ToDo", "description": description}).insert(ignore_permissions=True)
	return description


def report_todo_visible(description, key):
	record(key, bool(frappe.db.exists("ToDo", {"description": description})))


def insert_todo_then_fail(description):
	insert_todo(description)
	raise ValueError(f"boom {description}")


def report_context(key):
	record(key, {"site": frappe.local.site, "user": frappe.session.user})


def retry_once(key, description):
	# first run asks for a retry; the retried run inserts a ToDo
	runs = get_redis_connection_without_auth().incr(KEY_PREFIX + key)
	if runs == 1:
		raise frappe.RetryBackgroundJobError("try again")
	insert_todo(description)


def on_success_record(job, connection, result, *args, **kwargs):
	# runs in the work horse after execute_job's frappe.destroy()
	record(
		f"success:{job.kwargs['kwargs']['description']}",
		{
			"site": getattr(frappe.local, "site", None),
			"has_db": getattr(frappe.local, "db", None) is not None,
			"result": result,
			"job_site": job.kwargs["site"],
		},
		connection,
	)


def on_failure_record(job, connection, type, value, traceback):
	record(
		f"failure:{job.kwargs['kwargs']['description']}",
		{"site": getattr(frappe.local, "site", None), "error": type.__name__, "message": str(value)},
		connection,
	)


def scheduled_ok():
	# what a running job sees of its own Scheduled Job Log
	status = frappe.db.get_value(
		"Scheduled Job Log", {"scheduled_job_type": "testbed_jobs_fixtures.scheduled_ok"}, "status"
	)
	record("scheduled_ok", status)
	insert_todo("scheduled ok")


def scheduled_fail():
	insert_todo("scheduled fail")
	raise ValueError("scheduled boom")


def weekday_job():
	pass


def report_preloaded_modules(key):
	"""Which of the app's worker preloads this work horse had before its job imported anything."""
	import sys

	from myapp.utils.preload import MODULES

	record(key, [module for module in MODULES if module in sys.modules])
