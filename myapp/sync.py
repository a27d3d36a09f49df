"""External order sync (example 2 + workflow 5): push submitted Sales Orders, pull external updates.

One status model on Sales Order (`custom_sync_status`):

	Pending -> Synced
	Pending -> Retry Pending (attempts, last error, next attempt time) -> ... -> Synced
	                                                                      -> Failed (max attempts)
	Pending -> Error (the API rejected the order with a 4xx other than 429: retrying cannot help)

Submitting (or submitting an amendment of) an order marks it Pending. Three scheduled entry
points share one push path, `push_order`:

- `push_to_external` (every 15 minutes): one batch of orders that are due.
- `sync_to_external_system` (hourly sweep, workflow 5): batches until nothing is due.
- `sync_from_external` (hourly): pull records updated since the stored cursor.

An order is never pushed by two workers at once: each push holds the order's row lock
(`SELECT ... FOR UPDATE SKIP LOCKED`) from the moment it checks the order is due until its
result is committed; another worker skips a locked order, and a killed worker's lock goes with
its connection. The API key is read from the Password field when a run starts, sent only in the
Authorization header and redacted from every message this module stores.
"""

import datetime
import json
from urllib.parse import quote

import frappe
import requests
from frappe import _
from frappe.utils import add_to_date, cint, flt, get_datetime, getdate, now_datetime, nowdate

from myapp.utils.batching import TimeBudget
from myapp.utils.notify import email_addresses, users_with_role
from myapp.utils.retry import (
	CallFailure,
	backoff_seconds,
	failure_from_exception,
	failure_from_response,
	redact,
)

SETTINGS = "Sync Settings"
ORDER = "Sales Order"
LOG = "Sync Log"

PENDING = "Pending"
SYNCED = "Synced"
RETRY_PENDING = "Retry Pending"
FAILED = "Failed"
ERROR = "Error"
DUE_STATUSES = (PENDING, RETRY_PENDING)
RETRYABLE_BY_USER = (FAILED, ERROR, RETRY_PENDING)

# Scheduled jobs run on the default queue, which kills a job after 300 s: a run stops starting
# requests once less than one request timeout is left before this budget.
RUN_TIME_BUDGET_SECONDS = 270
# A sweep pushes at most this many batches, whatever the budget says.
SWEEP_MAX_BATCHES = 100
PUSH_NOW_JOB_ID = "myapp::sync::push_now"
logger_name = "myapp.sync"


# --- settings and the HTTP client -----------------------------------------------------


def get_settings(purpose: str):
	"""Sync Settings when the sync can run, else None (after one log line saying why)."""
	if not frappe.db.table_exists(ORDER) or not frappe.get_meta(ORDER).has_field("custom_sync_status"):
		frappe.logger(logger_name).info(
			f"External sync {purpose}: Sales Order (ERPNext) not installed, skipped"
		)
		return None
	settings = frappe.get_single(SETTINGS)
	if not settings.enabled or not settings.base_url:
		frappe.logger(logger_name).info(f"External sync {purpose}: disabled in Sync Settings, skipped")
		return None
	return settings


class ExternalAPI:
	"""The external system's orders endpoint. The key lives only in the session's headers."""

	def __init__(self, settings):
		self.base_url = settings.base_url.rstrip("/")
		self.timeout = max(cint(settings.timeout), 1)
		self.session = requests.Session()
		self.session.headers.update({"Accept": "application/json", "User-Agent": "myapp-sync/1"})
		self._secret = settings.get_password("api_key", raise_exception=False) or ""
		if self._secret:
			self.session.headers["Authorization"] = f"Bearer {self._secret}"

	def request(self, method: str, path: str, **kwargs) -> requests.Response:
		return self.session.request(
			method, f"{self.base_url}{path}", timeout=self.timeout, allow_redirects=False, **kwargs
		)

	def redact(self, text) -> str:
		return redact(str(text or ""), self._secret, f"Bearer {self._secret}" if self._secret else None)

	def redacted(self, failure: CallFailure) -> CallFailure:
		"""The failure with the key removed from its message (an API may echo request headers)."""
		failure.message = self.redact(failure.message)
		return failure

	def close(self):
		self.session.close()

	def __enter__(self):
		return self

	def __exit__(self, *exc):
		self.close()


# --- Sales Order hooks ----------------------------------------------------------------

SYNC_STATE_FIELDS = (
	"custom_sync_status",
	"custom_sync_attempts",
	"custom_sync_error",
	"custom_next_sync_at",
	"custom_sync_date",
)


def reset_sync_fields_on_copy(doc, method=None):
	"""before_insert: a duplicated or amended order starts with no sync state of its own.

	Desk copies even no_copy fields into an amendment; an amendment keeps the external id of the
	order it amends, so that its push updates (PUT) the same external record.
	"""
	if doc.flags.from_external_sync:
		return
	for fieldname in SYNC_STATE_FIELDS:
		doc.set(fieldname, None)
	if doc.amended_from:
		original = frappe.db.get_value(
			ORDER, doc.amended_from, ["custom_external_id", "custom_external_status"], as_dict=True
		)
		doc.custom_external_id = original.custom_external_id if original else None
		doc.custom_external_status = original.custom_external_status if original else None
	else:
		doc.custom_external_id = None
		doc.custom_external_status = None


def mark_pending_on_submit(doc, method=None):
	"""before_submit: a submitted order (an amendment too) waits for the next push."""
	doc.custom_sync_status = PENDING
	doc.custom_sync_attempts = 0
	doc.custom_sync_error = None
	doc.custom_next_sync_at = None


# --- push ------------------------------------------------------------------------------


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
	frappe.db.set_single_value(SETTINGS, "last_push_at", now_datetime(), update_modified=False)
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


def write_sync_log(sync_type: str, status: str, started_at, **values):
	frappe.get_doc(
		{
			"doctype": LOG,
			"sync_type": sync_type,
			"status": status,
			"started_at": started_at,
			"finished_at": now_datetime(),
			**values,
		}
	).insert(ignore_permissions=True)


# --- retry (the buttons) ----------------------------------------------------------------


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
		"myapp.sync.push_to_external",
		queue="default",
		job_id=PUSH_NOW_JOB_ID,
		deduplicate=True,
		enqueue_after_commit=True,
	)


# --- pull ------------------------------------------------------------------------------


def sync_from_external():
	"""Hourly: pull orders updated since the cursor (minus the overlap window), page by page.

	The cursor is the newest `updated_at` received, stored after each page is committed, so a
	failure half-way re-reads only from the last good page. Asking from `cursor - overlap`
	re-reads the last minutes, so a record committed late on the other side with an earlier
	timestamp is still seen; a record seen twice is upserted idempotently.
	"""
	settings = get_settings("pull")
	if not settings:
		return None
	started_at = now_datetime()
	budget = TimeBudget(RUN_TIME_BUDGET_SECONDS)
	cursor_before = get_datetime(settings.last_pull_cursor) if settings.last_pull_cursor else None
	cursor = cursor_before
	since = None
	if cursor_before:
		since = add_to_date(cursor_before, seconds=-cint(settings.pull_overlap_seconds))
	received = synced = skipped = pages = 0
	error = stop_reason = None
	page = None
	with ExternalAPI(settings) as api:
		while True:
			if budget.exhausted:
				stop_reason = _("time budget used up")
				break
			body, error = fetch_page(api, since, page, max(cint(settings.batch_size), 1))
			if error:
				frappe.log_error(
					title=_("External sync: pull failed"),
					message=_("Page {0} (updated since {1}): {2}").format(page or 1, since or "-", error),
					reference_doctype=SETTINGS,
					reference_name=SETTINGS,
				)
				break
			pages += 1
			records = body.get("data") or []
			for record in records:
				received += 1
				if upsert_pulled_record(record, settings, api):
					synced += 1
				else:
					skipped += 1
			newest = max_updated_at(records, cursor)
			if newest != cursor:
				cursor = newest
				frappe.db.set_single_value(SETTINGS, "last_pull_cursor", cursor, update_modified=False)
			frappe.db.commit()
			page = body.get("next_page")
			if not page or not records:
				break
	frappe.db.set_single_value(SETTINGS, "last_pull_at", now_datetime(), update_modified=False)
	if received or error or stop_reason:
		status = "Failed" if error and not pages else "Partial" if error or skipped else "Success"
		if stop_reason:
			status = "Stopped"
		write_sync_log(
			"Pull",
			status,
			started_at=started_at,
			stopped_early=bool(stop_reason),
			attempted=received,
			synced=synced,
			failed=skipped,
			cursor_before=cursor_before,
			cursor_after=cursor,
			message=error or (_("Stopped early: {0}").format(stop_reason) if stop_reason else None),
		)
	frappe.db.commit()
	return {"received": received, "synced": synced, "skipped": skipped, "pages": pages, "error": error}


def fetch_page(api: ExternalAPI, since, page, limit: int) -> tuple[dict | None, str | None]:
	params = {"limit": limit}
	if since:
		params["updated_since"] = format_api_datetime(since)
	if page:
		params["page"] = page
	try:
		response = api.request("GET", "/orders", params=params)
	except Exception as e:
		# as in send_order: nothing raised inside requests escapes with its frames
		return None, api.redact(failure_from_exception(e).message)
	failure = failure_from_response(response)
	if failure:
		return None, api.redact(failure.message)
	try:
		body = response.json()
	except ValueError:
		return None, _("The API returned a response that is not JSON")
	if not isinstance(body, dict) or not isinstance(body.get("data", []), list):
		return None, _("The API returned an unexpected response (no data list)")
	return body, None


def upsert_pulled_record(record, settings, api: ExternalAPI) -> bool:
	"""Create or update the local order of one external record, in its own savepoint.
	A bad record is logged with its external id and skipped; returns False for it."""
	external_id = record.get("id") if isinstance(record, dict) else None
	savepoint = "sync_pull_record"
	frappe.db.savepoint(savepoint)
	try:
		upsert_order(record, settings)
	except Exception as e:
		frappe.db.rollback(save_point=savepoint)
		frappe.log_error(
			title=_("External sync: skipped pulled order {0}").format(external_id or _("(no id)")),
			message=api.redact(
				f"{type(e).__name__}: {e}\n\n{json.dumps(record, default=str, indent=1)[:4000]}"
			),
			reference_doctype=ORDER,
		)
		return False
	frappe.db.release_savepoint(savepoint)
	return True


def upsert_order(record: dict, settings) -> str:
	"""Update the external status of the local order linked to the record, or create a draft order.
	Returns "created", "updated" or "unchanged" (the same record twice changes nothing)."""
	if not isinstance(record, dict):
		raise ValueError("record is not an object")
	external_id = str(record.get("id") or "").strip()
	if not external_id:
		raise ValueError("record has no id")
	name = find_local_order(external_id, record.get("order_id"))
	if name:
		current = frappe.db.get_value(
			ORDER, name, ["custom_external_id", "custom_external_status"], as_dict=True
		)
		changes = {}
		if not current.custom_external_id:
			changes["custom_external_id"] = external_id
		if record.get("status") is not None and current.custom_external_status != record.get("status"):
			changes["custom_external_status"] = record.get("status")
		if not changes:
			return "unchanged"
		frappe.db.set_value(ORDER, name, changes, update_modified=False)
		return "updated"
	create_order(record, external_id, settings)
	return "created"


def find_local_order(external_id: str, order_id=None) -> str | None:
	names = frappe.get_all(
		ORDER,
		filters={"custom_external_id": external_id, "docstatus": ("<", 2)},
		pluck="name",
		order_by="creation desc",
		limit=1,
	)
	if names:
		return names[0]
	if order_id and frappe.db.exists(ORDER, str(order_id)):
		# Our own order whose POST response was lost: link it instead of creating a copy.
		linked_to = frappe.db.get_value(ORDER, str(order_id), "custom_external_id")
		if linked_to and linked_to != external_id:
			raise ValueError(f"order_id {order_id} is already linked to external id {linked_to}")
		return str(order_id)
	return None


def create_order(record: dict, external_id: str, settings):
	customer = record.get("customer")
	if not customer or not frappe.db.exists("Customer", customer):
		raise ValueError(f"Customer {customer!r} does not exist")
	company = record.get("company") or settings.company
	if not company or not frappe.db.exists("Company", company):
		raise ValueError(f"Company {company!r} does not exist (set Company for New Orders in Sync Settings)")
	transaction_date = getdate(record.get("date") or nowdate())
	delivery_date = getdate(record.get("delivery_date") or transaction_date)
	items = []
	for line in record.get("items") or []:
		item_name = frappe.db.get_value("Item", line.get("sku"), "item_name") if line.get("sku") else None
		if not item_name:
			raise ValueError(f"Item {line.get('sku')!r} does not exist")
		items.append(
			{
				"item_code": line["sku"],
				"item_name": item_name,
				"qty": flt(line.get("qty")),
				"rate": flt(line.get("rate")),
				"delivery_date": delivery_date,
			}
		)
	if not items:
		raise ValueError("record has no items")
	doc = frappe.get_doc(
		{
			"doctype": ORDER,
			"customer": customer,
			"company": company,
			"currency": frappe.db.get_value("Company", company, "default_currency"),
			"transaction_date": transaction_date,
			"delivery_date": delivery_date,
			"items": items,
			"custom_external_id": external_id,
			"custom_external_status": record.get("status"),
		}
	)
	doc.flags.from_external_sync = True
	doc.insert(ignore_permissions=True)
	return doc


def parse_api_datetime(value) -> datetime.datetime | None:
	"""An API timestamp (ISO 8601; with an offset it is converted to UTC) as a naive datetime."""
	if not value:
		return None
	try:
		parsed = datetime.datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
	except ValueError:
		return None
	if parsed.tzinfo:
		parsed = parsed.astimezone(datetime.timezone.utc).replace(tzinfo=None)
	return parsed


def format_api_datetime(value) -> str:
	return get_datetime(value).replace(microsecond=0).isoformat() + "Z"


def max_updated_at(records: list, cursor):
	newest = get_datetime(cursor) if cursor else None
	for record in records:
		updated_at = parse_api_datetime(record.get("updated_at")) if isinstance(record, dict) else None
		if updated_at and (newest is None or updated_at > newest):
			newest = updated_at
	return newest
