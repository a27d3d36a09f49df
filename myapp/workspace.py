"""The "Background Jobs" Desk workspace: its custom number card and its ERPNext-only card.

The workspace and two of its number cards ship as JSON in the module folder
(myapp/myapp/workspace/, myapp/myapp/number_card/) and are imported by `bench migrate`.
The Sales Order sync card cannot ship that way: migrate imports a Number Card without checking
its DocType, and on a site without ERPNext the card then fails every time the workspace
loads it. `add_sales_order_sync_card` (run by myapp.install on install and migrate) creates it
once Sales Order and its `custom_sync_status` field exist.
"""

import json

import frappe
from frappe import _
from frappe.utils import add_to_date, now_datetime

WORKSPACE = "Background Jobs"

FAILED_JOBS_WINDOW_HOURS = 24

SALES_ORDER_SYNC_CARD = "Sales Orders Awaiting Sync"
SALES_ORDER = "Sales Order"
SYNC_STATUS_FIELD = "custom_sync_status"


def failed_scheduled_jobs_card() -> dict:
	"""Scheduled Job Logs that failed in the last 24 hours, for a Custom number card.

	A Document Type card cannot say "the last 24 hours" on the server: its filters are fixed
	values, and a dynamic filter is JavaScript evaluated in the browser (in the browser's clock),
	so the count would not be reproducible server-side and a click would open all failures ever.
	"""
	doctype = "Scheduled Job Log"
	if not frappe.has_permission(doctype, "read"):
		frappe.throw(_("Not permitted to read {0}").format(_(doctype)), frappe.PermissionError)

	since = add_to_date(now_datetime(), hours=-FAILED_JOBS_WINDOW_HOURS)
	filters = {"status": "Failed", "creation": (">=", since)}
	rows = frappe.get_list(doctype, filters=filters, fields=["count(name) as failed"])
	return {
		"value": rows[0].failed if rows else 0,
		"fieldtype": "Int",
		# what the Desk opens when the card is clicked: the same failures, in the list
		"route": ["List", doctype],
		"route_options": {"status": "Failed", "creation": [">=", str(since)]},
	}


def sales_order_sync_statuses() -> list[str]:
	"""The sync states that need someone's attention (myapp.sync: failed, rejected, retrying)."""
	from myapp.sync import RETRYABLE_BY_USER

	return list(RETRYABLE_BY_USER)


def sales_orders_awaiting_sync_card() -> dict:
	"""Submitted Sales Orders whose sync needs attention, for a Custom number card.

	Not a Document Type card: Frappe shows every number card to a System Manager, and a Document
	Type card of Sales Order then fails with "Not permitted" (an error dialog on the workspace)
	for a System Manager who may not read Sales Orders. This one counts the orders the user may
	read: none without that right."""
	if not frappe.has_permission(SALES_ORDER, "read"):
		if "System Manager" not in frappe.get_roles():
			frappe.throw(_("Not permitted to read {0}").format(_(SALES_ORDER)), frappe.PermissionError)
		return {"value": 0, "fieldtype": "Int"}
	statuses = sales_order_sync_statuses()
	filters = {"docstatus": 1, SYNC_STATUS_FIELD: ("in", statuses)}
	rows = frappe.get_list(SALES_ORDER, filters=filters, fields=["count(name) as total"])
	return {
		"value": rows[0].total if rows else 0,
		"fieldtype": "Int",
		"route": ["List", SALES_ORDER],
		"route_options": {"docstatus": 1, SYNC_STATUS_FIELD: ["in", statuses]},
	}


SALES_ORDER_SYNC_CARD_METHOD = "myapp.api.sales_orders_awaiting_sync_card"


def sales_order_sync_card() -> dict:
	return {
		"doctype": "Number Card",
		"label": SALES_ORDER_SYNC_CARD,  # a Number Card is named after its label
		"type": "Custom",
		"method": SALES_ORDER_SYNC_CARD_METHOD,
		# Frappe shows a card to users who may read its DocType (System Managers: every card)
		"document_type": SALES_ORDER,
		"filters_json": "[]",
		"is_public": 1,
		# not standard: with developer_mode on, saving a standard card writes it into the app's
		# source (Number Card.on_update), and the shipped JSON must not hold this card
		"is_standard": 0,
		"module": "MyApp",
		"color": "#ECAD4B",
	}


def add_sales_order_sync_card():
	"""Create the Sales Order sync card and put it on the workspace, once ERPNext is there.

	Idempotent. The workspace row is inserted directly (not `Workspace.save`) for the same
	developer_mode reason as the card, and without touching `modified`: migrate re-imports the
	shipped workspace only when its JSON is newer than the stored one; the import drops this row,
	and the `after_migrate` that follows adds it back.
	"""
	if not frappe.db.exists("DocType", SALES_ORDER):
		return
	if not frappe.get_meta(SALES_ORDER).has_field(SYNC_STATUS_FIELD):
		return

	card = sales_order_sync_card()
	if not frappe.db.exists("Number Card", SALES_ORDER_SYNC_CARD):
		frappe.get_doc(card).insert(ignore_permissions=True)
	stored = frappe.db.get_value("Number Card", SALES_ORDER_SYNC_CARD, ["type", "currency"], as_dict=True)
	if stored.type != "Custom" or stored.currency:
		# An earlier version made it a Document Type card. And a count has no currency: a new
		# Number Card gets the site's default currency (a Link default), and the Desk then shows
		# the count as money ("$ 1.00").
		values = {field: card[field] for field in ("type", "method", "document_type", "filters_json")}
		frappe.db.set_value(
			"Number Card", SALES_ORDER_SYNC_CARD, {**values, "currency": None}, update_modified=False
		)

	if not frappe.db.exists("Workspace", WORKSPACE):
		return  # an administrator deleted it: do not bring back a half of it
	if frappe.db.exists(
		"Workspace Number Card",
		{"parenttype": "Workspace", "parent": WORKSPACE, "number_card_name": SALES_ORDER_SYNC_CARD},
	):
		return

	workspace = frappe.get_doc("Workspace", WORKSPACE)
	workspace.append(
		"number_cards", {"number_card_name": SALES_ORDER_SYNC_CARD, "label": SALES_ORDER_SYNC_CARD}
	).db_insert()
	content = json.loads(workspace.content or "[]")
	block = {
		"id": "myappSOsync",
		"type": "number_card",
		"data": {"number_card_name": SALES_ORDER_SYNC_CARD, "col": 4},
	}
	if not any(item.get("data", {}).get("number_card_name") == SALES_ORDER_SYNC_CARD for item in content):
		# after the shipped cards, so the three cards share a row
		last_card = max(
			(i for i, item in enumerate(content) if item.get("type") == "number_card"), default=-1
		)
		content.insert(last_card + 1, block)
		frappe.db.set_value("Workspace", WORKSPACE, "content", json.dumps(content), update_modified=False)
	workspace.clear_cache()
