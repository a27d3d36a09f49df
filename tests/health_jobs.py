"""Jobs that tests/test_health.py enqueues; workers import them as `health_jobs.<name>`
(tests/ is on their PYTHONPATH). They talk to the test through keys on the queue's Redis."""

import time

from frappe.utils.background_jobs import get_redis_connection_without_auth

KEY_PREFIX = "health_test:"


def hold_worker(key, limit_seconds=120):
	"""Keep the worker busy until the test calls release(key) (or the limit passes)."""
	connection = get_redis_connection_without_auth()
	connection.set(f"{KEY_PREFIX}started:{key}", 1)
	deadline = time.monotonic() + limit_seconds
	while time.monotonic() < deadline and not connection.get(f"{KEY_PREFIX}release:{key}"):
		time.sleep(0.05)


def started(key):
	return bool(get_redis_connection_without_auth().get(f"{KEY_PREFIX}started:{key}"))


def release(key):
	get_redis_connection_without_auth().set(f"{KEY_PREFIX}release:{key}", 1)


def fail(message):
	raise ValueError(message)


def noop():
	return None
