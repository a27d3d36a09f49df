"""The pull: external records updated since the stored cursor, page by page, upserted one by one.

A record of a known order updates its external status; any other record becomes a draft Sales
Order through `myapp.sync.pulled_order.create_order`.
"""

import datetime
import json

import frappe
from frappe import _
from frappe.utils import add_to_date, cint, get_datetime, get_datetime_str, now, now_datetime

from myapp.sync.client import ExternalAPI, get_settings
from myapp.sync.constants import ORDER, RUN_TIME_BUDGET_SECONDS, SETTINGS
from myapp.sync.log import write_sync_log
from myapp.sync.pulled_order import create_order
from myapp.utils.batching import TimeBudget
from myapp.utils.retry import failure_from_exception, failure_from_response
from myapp.utils.savepoint import isolated


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
				frappe.db.set_single_value(
					SETTINGS, "last_pull_cursor", get_datetime_str(cursor), update_modified=False
				)
			frappe.db.commit()
			page = body.get("next_page")
			if not page or not records:
				break
	frappe.db.set_single_value(SETTINGS, "last_pull_at", now(), update_modified=False)
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
	with isolated("sync_pull_record") as unit:
		upsert_order(record, settings)
	if not unit.failed:
		return True
	frappe.log_error(
		title=_("External sync: skipped pulled order {0}").format(external_id or _("(no id)")),
		message=api.redact(
			f"{type(unit.error).__name__}: {unit.error}\n\n{json.dumps(record, default=str, indent=1)[:4000]}"
		),
		reference_doctype=ORDER,
	)
	return False


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
