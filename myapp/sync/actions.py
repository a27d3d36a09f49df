"""What the Retry Sync / Retry all failed buttons do (called from myapp.api)."""

import frappe

from myapp.sync.constants import ERROR, FAILED, ORDER, PENDING, PUSH_NOW_JOB_ID, RETRYABLE_BY_USER


def mark_for_retry(names: list[str]) -> int:
	"""Put submitted orders back to Pending with a fresh attempt count; returns how many."""
	if not names:
		return 0
	names = frappe.db.sql(
		"""select name from `tabSales Order`
		where name in %(names)s and docstatus = 1 and custom_sync_status in %(statuses)s""",
		{"names": tuple(names), "statuses": RETRYABLE_BY_USER},
		pluck=True,
	)
	if names:
		frappe.db.sql(
			"""update `tabSales Order`
			set custom_sync_status = %(pending)s, custom_sync_attempts = 0,
				custom_sync_error = null, custom_next_sync_at = null
			where name in %(names)s""",
			{"pending": PENDING, "names": tuple(names)},
		)
	return len(names)


def failed_orders() -> list[str]:
	return frappe.get_all(
		ORDER, filters={"docstatus": 1, "custom_sync_status": ("in", (FAILED, ERROR))}, pluck="name"
	)


def enqueue_push_now():
	"""A push soon after the current request commits (the retried orders must be visible to it).
	Two pushes at once are safe: each order is row-locked while it is pushed."""
	frappe.enqueue(
		# the public path (re-exported by the package), as hooks.py and admins name it
		"myapp.sync.push_to_external",
		queue="default",
		job_id=PUSH_NOW_JOB_ID,
		deduplicate=True,
		enqueue_after_commit=True,
	)
