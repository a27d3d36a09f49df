"""Jobs that tests/test_reliability.py enqueues to inject database lock faults into real workers.

Workers import them as `reliability_jobs.<name>` (tests/ is on their PYTHONPATH). They report
through plain keys on the queue's Redis, which the test process reads.
"""

import json

import frappe
from frappe.utils.background_jobs import get_redis_connection_without_auth

KEY_PREFIX = "myapp_reliability:"
# seconds a job's statements wait for a row lock (MariaDB's default is 50): set per session only
LOCK_WAIT_SECONDS = 1


def record(key, value):
	get_redis_connection_without_auth().rpush(KEY_PREFIX + key, json.dumps(value, default=str))


def recorded(key):
	return [json.loads(v) for v in get_redis_connection_without_auth().lrange(KEY_PREFIX + key, 0, -1)]


def short_lock_waits(seconds=LOCK_WAIT_SECONDS):
	frappe.db.sql(f"set session innodb_lock_wait_timeout = {int(seconds)}")


def update_locked_todo(name, key):
	"""Updates a ToDo that the test holds locked: a real lock wait timeout (1205) in a job."""
	record(key, {"user": frappe.session.user})
	short_lock_waits()
	try:
		frappe.db.sql("update `tabToDo` set description = %s where name = %s", (f"done by {key}", name))
	except Exception as e:
		record(f"{key}:errors", type(e).__name__)
		raise


def update_locked_todo_asking_for_retry(name, key):
	"""The same, but a lock wait timeout asks execute_job for a retry (RetryBackgroundJobError)."""
	record(key, {"user": frappe.session.user})
	short_lock_waits()
	try:
		frappe.db.sql("update `tabToDo` set description = %s where name = %s", (f"done by {key}", name))
	except frappe.QueryTimeoutError as e:
		record(f"{key}:errors", type(e).__name__)
		raise frappe.RetryBackgroundJobError("lock wait timeout: try again") from e


def expiry_reminders_with_short_lock_waits(key):
	"""myapp's daily expiry job, unchanged, in a session whose lock waits time out quickly."""
	from myapp.expiry import check_expiring_documents

	short_lock_waits(2)
	result = check_expiring_documents()
	record(key, result)
	return result
