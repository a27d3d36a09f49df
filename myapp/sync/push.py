"""The push: submitted Sales Orders that are due go to the external API, one order per transaction.

`push_order` is the one push path; the 15-minute job and the hourly sweep both run it.
"""

from urllib.parse import quote

import frappe
from frappe import _
from frappe.utils import add_to_date, cint, flt, now, now_datetime

from myapp.sync.client import ExternalAPI, get_settings
from myapp.sync.constants import (
	DUE_STATUSES,
	ERROR,
	FAILED,
	ORDER,
	RETRY_PENDING,
	RUN_TIME_BUDGET_SECONDS,
	SETTINGS,
	SWEEP_MAX_BATCHES,
	SYNCED,
	logger_name,
)
from myapp.sync.log import write_sync_log
from myapp.utils.batching import TimeBudget
from myapp.utils.notify import email_addresses, users_with_role
from myapp.utils.retry import (
	CallFailure,
	backoff_seconds,
	failure_from_exception,
	failure_from_response,
)


class PushRun:
	"""Counters and the early stop of one push run."""

	def __init__(self, settings, api: ExternalAPI):
		self.settings = settings
		self.api = api
		self.started_at = now_datetime()
		self.budget = TimeBudget(max(RUN_TIME_BUDGET_SECONDS - api.timeout, api.timeout))
		self.attempted = self.synced = self.retrying = self.failed = self.skipped = 0
		self.consecutive_failures = 0
		self.stop_reason = None
		self.needs_attention = []  # (order, status, error) that became Failed or Error

	@property
	def stopped(self) -> bool:
		if not self.stop_reason and self.budget.exhausted:
			self.stop_reason = _("time budget used up")
		return bool(self.stop_reason)

	def count(self, outcome: str, failure: CallFailure | None):
		self.attempted += 1
		if outcome == SYNCED:
			self.synced += 1
		elif outcome == RETRY_PENDING:
			self.retrying += 1
		else:
			self.failed += 1
		if failure and failure.retryable:
			self.consecutive_failures += 1
		else:
			# the API answered (even with a rejection): it is up
			self.consecutive_failures = 0
		threshold = max(cint(self.settings.stop_after_consecutive_failures), 1)
		if failure and failure.rate_limited:
			self.stop_reason = _("rate limited by the API (HTTP 429)")
		elif self.consecutive_failures >= threshold:
			self.stop_reason = _("{0} consecutive failures").format(self.consecutive_failures)


def push_to_external():
	"""Every 15 minutes: push one batch of due orders (Pending, or Retry Pending whose time has come)."""
	return run_push(max_batches=1)


def sync_to_external_system():
	"""Hourly sweep (workflow 5): push batch after batch until nothing is due, the run stops
	early, or its time budget is used up."""
	return run_push(max_batches=SWEEP_MAX_BATCHES)


def run_push(max_batches: int) -> dict | None:
	settings = get_settings("push")
	if not settings:
		return None
	batch_size = max(cint(settings.batch_size), 1)
	with ExternalAPI(settings) as api:
		run = PushRun(settings, api)
		seen = set()
		for _batch in range(max_batches):
			names = [name for name in due_orders(batch_size + len(seen)) if name not in seen][:batch_size]
			if not names:
				break
			for name in names:
				if run.stopped:
					break
				seen.add(name)
				push_order(name, run)
			if run.stopped or len(names) < batch_size:
				break
	frappe.db.set_single_value(SETTINGS, "last_push_at", now(), update_modified=False)
	frappe.db.commit()
	finish_push_run(run)
	return {
		"attempted": run.attempted,
		"synced": run.synced,
		"retrying": run.retrying,
		"failed": run.failed,
		"skipped": run.skipped,
		"stopped_early": bool(run.stop_reason),
	}


def due_orders(limit: int) -> list[str]:
	"""Submitted orders waiting for a push, oldest first (a plain read: `push_order` re-checks under lock)."""
	return frappe.db.sql(
		"""select name from `tabSales Order`
		where docstatus = 1 and custom_sync_status in %(statuses)s
			and (custom_next_sync_at is null or custom_next_sync_at <= %(now)s)
		order by custom_next_sync_at is not null, custom_next_sync_at, creation
		limit %(limit)s""",
		{"statuses": DUE_STATUSES, "now": now_datetime(), "limit": limit},
		pluck=True,
	)


def lock_if_due(name: str):
	"""Lock the order's row if it is still due; None when it is not, or another worker holds it."""
	rows = frappe.db.sql(
		"""select name, custom_external_id, custom_sync_attempts from `tabSales Order`
		where name = %(name)s and docstatus = 1 and custom_sync_status in %(statuses)s
			and (custom_next_sync_at is null or custom_next_sync_at <= %(now)s)
		for update skip locked""",
		{"name": name, "statuses": DUE_STATUSES, "now": now_datetime()},
		as_dict=True,
	)
	return rows[0] if rows else None


def push_order(name: str, run: PushRun) -> str | None:
	"""The one push path: POST a new order, PUT a known one, record the outcome. Returns the new status."""
	# Each order in its own transaction: the row lock taken below lasts until the commit at the end.
	frappe.db.commit()
	row = lock_if_due(name)
	if not row:
		run.skipped += 1
		return None
	doc = frappe.get_doc(ORDER, name)
	external_id, failure = send_order(run.api, doc, row.custom_external_id)
	if failure:
		status = record_failure(doc, cint(row.custom_sync_attempts) + 1, failure, run)
	else:
		status = record_success(doc, cint(row.custom_sync_attempts) + 1, external_id)
	frappe.db.commit()
	run.count(status, failure)
	return status


def order_payload(doc) -> dict:
	"""What the external system receives for an order (example 2's payload)."""
	return {
		"order_id": doc.name,
		"customer": doc.customer,
		"total": flt(doc.grand_total),
		"items": [
			{"sku": item.item_code, "qty": flt(item.qty), "rate": flt(item.rate)} for item in doc.items
		],
	}


def send_order(api: ExternalAPI, doc, external_id: str | None) -> tuple[str | None, CallFailure | None]:
	payload = order_payload(doc)
	try:
		if external_id:
			response = api.request("PUT", f"/orders/{quote(str(external_id), safe='')}", json=payload)
		else:
			response = api.request("POST", "/orders", json=payload)
	except Exception as e:
		# Anything raised inside requests (not only RequestException): an escaping exception would
		# be logged by the worker with the frames' variables, and requests' frames hold the headers.
		return None, api.redacted(failure_from_exception(e))
	failure = failure_from_response(response)
	if failure:
		return None, api.redacted(failure)
	try:
		body = response.json() if response.content else {}
	except ValueError:
		body = {}
	returned_id = str(body.get("id") or "").strip() if isinstance(body, dict) else ""
	if external_id:
		return returned_id or external_id, None
	if not returned_id:
		# Accepted without an id: a second POST could create a duplicate, so a human decides.
		return None, CallFailure(
			message=_("The API accepted the order (HTTP {0}) but returned no id").format(
				response.status_code
			),
			retryable=False,
			status_code=response.status_code,
		)
	return returned_id, None


def record_success(doc, attempts: int, external_id: str) -> str:
	frappe.db.set_value(
		ORDER,
		doc.name,
		{
			"custom_sync_status": SYNCED,
			"custom_sync_attempts": attempts,
			"custom_sync_error": None,
			"custom_next_sync_at": None,
			"custom_sync_date": now_datetime(),
			"custom_external_id": external_id,
		},
		update_modified=False,
	)
	return SYNCED


def record_failure(doc, attempts: int, failure: CallFailure, run: PushRun) -> str:
	settings = run.settings
	error = failure.message
	max_attempts = max(cint(settings.max_attempts), 1)
	values = {"custom_sync_attempts": attempts, "custom_sync_error": error, "custom_next_sync_at": None}
	if not failure.retryable:
		status = ERROR
		title = _("External sync rejected Sales Order {0}").format(doc.name)
	elif attempts >= max_attempts:
		status = FAILED
		error = _("Max attempts reached ({0}): {1}").format(attempts, error)
		values["custom_sync_error"] = error
		title = _("External sync failed for Sales Order {0}").format(doc.name)
	else:
		status = RETRY_PENDING
		delay = backoff_seconds(
			attempts, cint(settings.backoff_base), cint(settings.backoff_cap), failure.retry_after
		)
		values["custom_next_sync_at"] = add_to_date(now_datetime(), seconds=delay)
		frappe.logger(logger_name).warning(
			f"Push of {doc.name} failed (attempt {attempts}/{max_attempts}), retry in {delay:.0f}s: {error}"
		)
	values["custom_sync_status"] = status
	frappe.db.set_value(ORDER, doc.name, values, update_modified=False)
	if status in (FAILED, ERROR):
		frappe.log_error(title=title, message=error, reference_doctype=ORDER, reference_name=doc.name)
		run.needs_attention.append((doc.name, status, error))
	return status


def finish_push_run(run: PushRun):
	if not (run.attempted or run.stop_reason):
		return
	if run.stop_reason:
		frappe.logger(logger_name).warning(f"Push run stopped early: {run.stop_reason}")
	status = "Success"
	if run.stop_reason:
		status = "Stopped"
	elif run.failed or run.retrying:
		status = "Partial" if run.synced else "Failed"
	write_sync_log(
		"Push",
		status,
		started_at=run.started_at,
		stopped_early=bool(run.stop_reason),
		attempted=run.attempted,
		synced=run.synced,
		retrying=run.retrying,
		failed=run.failed,
		skipped=run.skipped,
		message=_("Stopped early: {0}").format(run.stop_reason) if run.stop_reason else None,
	)
	notify_system_managers(run.needs_attention)
	frappe.db.commit()


def notify_system_managers(orders: list[tuple[str, str, str]]):
	"""One email per run listing the orders that became Failed or Error."""
	if not orders:
		return
	recipients = email_addresses(users_with_role("System Manager"))
	if not recipients:
		return
	frappe.sendmail(
		recipients=recipients,
		subject=_("External sync: {0} Sales Order(s) need attention").format(len(orders)),
		template="sync_failures",
		args={
			"orders": [
				{
					"name": name,
					"status": status,
					"error": error,
					"url": frappe.utils.get_url_to_form(ORDER, name),
				}
				for name, status, error in orders
			],
		},
		reference_doctype=SETTINGS,
		reference_name=SETTINGS,
	)
