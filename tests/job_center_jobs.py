"""Jobs that tests/test_job_center.py enqueues. Workers import them as `job_center_jobs.<name>`
(tests/ is on their PYTHONPATH); they count their runs on the queue's Redis, which the test reads."""

import time

import frappe
from frappe.utils.background_jobs import get_redis_connection_without_auth

KEY_PREFIX = "myapp_job_center_test:"


def runs(tag) -> int:
	return int(get_redis_connection_without_auth().get(KEY_PREFIX + tag) or 0)


def _count_run(tag) -> int:
	return get_redis_connection_without_auth().incr(KEY_PREFIX + tag)


def deadlock_twice(tag):
	"""Fails with a deadlock (as v15's sql() raises it) on its first two runs, then succeeds."""
	run = _count_run(tag)
	if run <= 2:
		raise frappe.QueryDeadlockError(f"(1213, 'Deadlock found when trying to get lock') run {run}")
	frappe.get_doc({"doctype": "ToDo", "description": f"job center {tag}"}).insert(ignore_permissions=True)
	return run


def always_deadlocks(tag):
	_count_run(tag)
	raise frappe.QueryDeadlockError("(1213, 'Deadlock found when trying to get lock')")


def fails(tag, **kwargs):
	"""A permanent failure; extra keyword arguments ride along (secrets, large values)."""
	_count_run(tag)
	raise ValueError(f"cannot process {tag}")


def fails_with_secret_in_message(tag, api_key, password):
	_count_run(tag)
	raise ValueError(f"login refused for key {api_key} / {password}")


def sleeps(tag, seconds=60):
	_count_run(tag)
	time.sleep(seconds)
