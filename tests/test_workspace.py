"""Issue 6, Desk: the "Background Jobs" workspace and its number cards, shipped as JSON and
installed by migrate. The shipped JSON is checked against the DocType meta (a renamed DocType or
field fails here, not on a user's Desk), and every card counts real records."""

import json
from pathlib import Path

import frappe
import pytest
from conftest import BENCH_SITE, call_endpoint, days_ago, make_user
from frappe.utils import add_to_date, now_datetime

from myapp.workspace import SALES_ORDER_SYNC_CARD, WORKSPACE, sales_order_sync_card

MODULE = Path(__file__).resolve().parent.parent / "myapp" / "myapp"
WORKSPACE_JSON = MODULE / "workspace" / "background_jobs" / "background_jobs.json"
CARD_JSONS = sorted((MODULE / "number_card").glob("*/*.json"))
FAILED_JOBS_CARD = "Failed Scheduled Jobs 24h"
IMPORTS_CARD = "Imports Running"
OPEN_FAILED_JOBS_CARD = "Open Failed Jobs"
SHIPPED_CARDS = {FAILED_JOBS_CARD, IMPORTS_CARD, OPEN_FAILED_JOBS_CARD}
FAILED_JOBS_CHART = "Failed Jobs by Method"

# Columns every table has (frappe.model.default_fields); filters may use them.
STANDARD_COLUMNS = {"name", "owner", "creation", "modified", "modified_by", "docstatus", "idx"}


def load(path):
	with open(path) as f:
		return json.load(f)


def shipped_cards():
	return {card["name"]: card for card in map(load, CARD_JSONS)}


def assert_filters_match_meta(card):
	card = {"name": card.get("name") or card["label"], **card}
	meta = frappe.get_meta(card["document_type"])
	for doctype, fieldname, operator, value, *_ in json.loads(card.get("filters_json") or "[]"):
		assert doctype == card["document_type"], card["name"]
		if fieldname in STANDARD_COLUMNS:
			continue
		df = meta.get_field(fieldname)
		assert df, f"{card['name']}: {card['document_type']} has no field {fieldname}"
		if df.fieldtype == "Select":
			values = value if operator in ("in", "not in") else [value]
			options = (df.options or "").split("\n")
			assert set(values) <= set(options), (
				f"{card['name']}: {values} not in {fieldname} options {options}"
			)


def card_number(name):
	"""What the Desk shows for a card: `get_result` for a Document Type card, the method for a Custom one."""
	from frappe.desk.doctype.number_card.number_card import get_result

	card = frappe.get_doc("Number Card", name)
	if card.type == "Custom":
		return call_endpoint(card.method, http_method="POST", filters=card.filters_json)["value"]
	return get_result(card.as_dict(), card.filters_json)


def workspace_card_names():
	return frappe.get_all(
		"Workspace Number Card",
		filters={"parenttype": "Workspace", "parent": WORKSPACE},
		pluck="number_card_name",
		order_by="idx",
	)


def content_card_names():
	content = json.loads(frappe.db.get_value("Workspace", WORKSPACE, "content"))
	return [block["data"]["number_card_name"] for block in content if block["type"] == "number_card"]


# The shipped JSON against the DocType meta


def test_every_shortcut_and_link_opens_an_existing_doctype():
	workspace = load(WORKSPACE_JSON)
	assert workspace["name"] == WORKSPACE and workspace["module"] == "MyApp" and workspace["public"] == 1
	targets = [s["link_to"] for s in workspace["shortcuts"] if s["type"] == "DocType"]
	targets += [link["link_to"] for link in workspace["links"] if link["type"] == "Link"]
	assert {"Scheduled Job Type", "Scheduled Job Log", "RQ Job", "Error Log", "CSV Import Log"} <= set(
		targets
	)
	assert {"Expiry Rule", "Sync Settings", "Maintenance Settings", "Report Settings"} <= set(targets)
	assert "Scheduler Health Settings" in targets
	for doctype in targets:
		frappe.get_meta(doctype)  # DoesNotExistError for a DocType renamed or gone
	for role in workspace["roles"]:
		assert frappe.db.exists("Role", role["role"])


def test_content_blocks_name_the_rows_they_render():
	"""The Desk renders a block by finding the shortcut / card / number card whose *label* is the
	block's name (v15 workspace blocks/block.js): a mismatch is an empty block."""
	workspace = load(WORKSPACE_JSON)
	content = json.loads(workspace["content"])
	labels = {
		"shortcut": {s["label"] for s in workspace["shortcuts"]},
		"card": {link["label"] for link in workspace["links"] if link["type"] == "Card Break"},
		"number_card": {row["label"] for row in workspace["number_cards"]},
		"chart": {row["label"] for row in workspace["charts"]},
	}
	key = {
		"shortcut": "shortcut_name",
		"card": "card_name",
		"number_card": "number_card_name",
		"chart": "chart_name",
	}
	for block in content:
		if block["type"] in key:
			assert block["data"][key[block["type"]]] in labels[block["type"]], block
	for kind, names in labels.items():
		assert names == {b["data"][key[kind]] for b in content if b["type"] == kind}, kind
	# a Card Break's link_count is the number of links under it (the Desk shows that many)
	counted = {}
	for link in workspace["links"]:
		if link["type"] == "Card Break":
			card, counted[link["label"]] = link, 0
		else:
			counted[card["label"]] += 1
	assert counted == {b["label"]: b["link_count"] for b in workspace["links"] if b["type"] == "Card Break"}


def test_number_cards_count_existing_fields():
	cards = shipped_cards()
	assert set(cards) == SHIPPED_CARDS
	workspace = load(WORKSPACE_JSON)
	assert {row["number_card_name"] for row in workspace["number_cards"]} == SHIPPED_CARDS
	for card in cards.values():
		assert card["module"] == "MyApp" and card["is_standard"] == 1 and card["is_public"] == 1
		frappe.get_meta(card["document_type"])
		assert_filters_match_meta(card)
		if card["type"] == "Custom":
			method = frappe.get_attr(card["method"])
			assert method in frappe.whitelisted, card["method"]
		else:
			assert card["type"] == "Document Type" and card["function"] == "Count"
	assert cards[IMPORTS_CARD]["document_type"] == "CSV Import Log"


def test_sales_order_card_counts_the_orders_awaiting_sync_that_the_user_may_read(erpnext):
	from sales_records import make_customer, make_sales_order

	card = sales_order_sync_card()
	assert card["type"] == "Custom" and card["document_type"] == "Sales Order"
	assert frappe.get_attr(card["method"]) in frappe.whitelisted
	customer = make_customer("Card Customer")
	orders = [make_sales_order(customer) for _ in range(4)]
	for name, status in zip(orders, ("Failed", "Retry Pending", "Synced", "Pending"), strict=True):
		frappe.db.set_value("Sales Order", name, "custom_sync_status", status)
	frappe.db.commit()

	result = call_endpoint(card["method"], http_method="GET")
	assert result["value"] == 2
	assert result["route"] == ["List", "Sales Order"]
	assert set(result["route_options"]["custom_sync_status"][1]) >= {"Failed", "Retry Pending"}
	# Frappe shows every card to a System Manager: one who may not read Sales Orders gets no
	# "Not permitted" error on the workspace, and nothing counted
	it_admin = make_user("it.admin@myapp.test", ["System Manager"])
	frappe.db.commit()
	assert not frappe.has_permission("Sales Order", "read", user=it_admin)
	assert call_endpoint(card["method"], http_method="GET", user=it_admin) == {"value": 0, "fieldtype": "Int"}


def test_migrate_turns_an_earlier_document_type_card_into_the_custom_card(erpnext):
	from myapp.install import after_migrate

	after_migrate()
	# a count, not money (a new card gets the site's default currency)
	assert not frappe.db.get_value("Number Card", SALES_ORDER_SYNC_CARD, "currency")
	frappe.db.set_value(
		"Number Card",
		SALES_ORDER_SYNC_CARD,
		{"type": "Document Type", "method": None, "currency": "USD"},
		update_modified=False,
	)
	after_migrate()
	assert frappe.db.get_value("Number Card", SALES_ORDER_SYNC_CARD, ["type", "method", "currency"]) == (
		"Custom",
		"myapp.api.sales_orders_awaiting_sync_card",
		None,
	)


# Installed by migrate, with real numbers


def test_migrate_installs_the_workspace_and_its_cards(erpnext):
	workspace = frappe.get_doc("Workspace", WORKSPACE)
	assert {s.link_to for s in workspace.shortcuts} >= {"Scheduled Job Log", "RQ Job", "Sync Settings"}
	assert set(frappe.get_all("Number Card", filters={"module": "MyApp"}, pluck="name")) == SHIPPED_CARDS | {
		SALES_ORDER_SYNC_CARD
	}
	# the Sales Order card sits after the shipped ones, once, in the rows and in the content
	assert workspace_card_names() == [
		FAILED_JOBS_CARD,
		IMPORTS_CARD,
		OPEN_FAILED_JOBS_CARD,
		SALES_ORDER_SYNC_CARD,
	]
	assert content_card_names() == [
		FAILED_JOBS_CARD,
		IMPORTS_CARD,
		OPEN_FAILED_JOBS_CARD,
		SALES_ORDER_SYNC_CARD,
	]


def test_migrate_again_keeps_one_sales_order_card(erpnext):
	from frappe.model.sync import sync_all

	from myapp.install import after_migrate

	stored_modified = frappe.db.get_value("Workspace", WORKSPACE, "modified")
	after_migrate()
	after_migrate()
	assert workspace_card_names() == [
		FAILED_JOBS_CARD,
		IMPORTS_CARD,
		OPEN_FAILED_JOBS_CARD,
		SALES_ORDER_SYNC_CARD,
	]
	assert content_card_names() == [
		FAILED_JOBS_CARD,
		IMPORTS_CARD,
		OPEN_FAILED_JOBS_CARD,
		SALES_ORDER_SYNC_CARD,
	]
	# adding the card must not look like a newer workspace, or a changed JSON would never import
	assert frappe.db.get_value("Workspace", WORKSPACE, "modified") == stored_modified

	# a release with a newer workspace JSON: migrate re-imports it (dropping the row), then
	# after_migrate puts the card back
	frappe.db.set_value("Workspace", WORKSPACE, "modified", "2020-01-01 00:00:00", update_modified=False)
	frappe.db.commit()
	sync_all()
	assert workspace_card_names() == [FAILED_JOBS_CARD, IMPORTS_CARD, OPEN_FAILED_JOBS_CARD]
	after_migrate()
	assert workspace_card_names() == [
		FAILED_JOBS_CARD,
		IMPORTS_CARD,
		OPEN_FAILED_JOBS_CARD,
		SALES_ORDER_SYNC_CARD,
	]
	assert content_card_names() == [
		FAILED_JOBS_CARD,
		IMPORTS_CARD,
		OPEN_FAILED_JOBS_CARD,
		SALES_ORDER_SYNC_CARD,
	]
	assert str(frappe.db.get_value("Workspace", WORKSPACE, "modified")) == str(
		frappe.utils.get_datetime(load(WORKSPACE_JSON)["modified"])
	)


def test_site_without_erpnext_gets_no_sales_order_card(site_without_erpnext):
	from myapp.install import after_migrate

	after_migrate()
	assert frappe.db.exists("Workspace", WORKSPACE)
	assert not frappe.db.exists("Number Card", SALES_ORDER_SYNC_CARD)
	assert workspace_card_names() == [FAILED_JOBS_CARD, IMPORTS_CARD, OPEN_FAILED_JOBS_CARD]
	assert content_card_names() == [FAILED_JOBS_CARD, IMPORTS_CARD, OPEN_FAILED_JOBS_CARD]


def make_scheduled_job_log(status, created):
	job_type = frappe.get_all("Scheduled Job Type", pluck="name", limit=1)[0]
	log = frappe.get_doc({"doctype": "Scheduled Job Log", "scheduled_job_type": job_type, "status": status})
	log.insert(ignore_permissions=True)
	frappe.db.sql(
		"update `tabScheduled Job Log` set creation=%s, modified=%s where name=%s",
		(created, created, log.name),
	)


def test_failed_jobs_card_counts_the_last_24_hours():
	assert card_number(FAILED_JOBS_CARD) == 0
	make_scheduled_job_log("Failed", add_to_date(now_datetime(), hours=-1))
	make_scheduled_job_log("Failed", add_to_date(now_datetime(), hours=-23))
	make_scheduled_job_log("Failed", days_ago(2))  # older than the window
	make_scheduled_job_log("Complete", add_to_date(now_datetime(), hours=-1))
	assert card_number(FAILED_JOBS_CARD) == 2

	result = call_endpoint("myapp.api.failed_scheduled_jobs_card", http_method="GET")
	# a click opens the same failures in the list
	assert result["route"] == ["List", "Scheduled Job Log"]
	assert result["route_options"]["status"] == "Failed"
	operator, since = result["route_options"]["creation"]
	assert operator == ">="
	assert frappe.db.count("Scheduled Job Log", {"status": "Failed", "creation": (">=", since)}) == 2


def test_failed_jobs_card_needs_read_permission():
	make_scheduled_job_log("Failed", add_to_date(now_datetime(), hours=-1))
	clerk = make_user("clerk@myapp.test")
	admin = make_user("admin@myapp.test", roles=["System Manager"])
	with pytest.raises(frappe.PermissionError):
		call_endpoint("myapp.api.failed_scheduled_jobs_card", user=clerk)
	with pytest.raises(frappe.PermissionError):
		call_endpoint("myapp.api.failed_scheduled_jobs_card", user="Guest")
	assert call_endpoint("myapp.api.failed_scheduled_jobs_card", user=admin)["value"] == 1


def test_imports_running_card_counts_running_imports():
	file = frappe.get_doc(
		{"doctype": "File", "file_name": "desk-card.csv", "content": "description\nx\n", "is_private": 1}
	).insert(ignore_permissions=True)
	assert card_number(IMPORTS_CARD) == 0
	for status in ("Running", "Running", "Queued", "Success", "Error"):
		log = frappe.get_doc(
			{"doctype": "CSV Import Log", "import_file": file.file_url, "reference_doctype": "ToDo"}
		).insert(ignore_permissions=True)
		frappe.db.set_value("CSV Import Log", log.name, "status", status)
	assert card_number(IMPORTS_CARD) == 2


def test_sales_order_card_counts_orders_that_need_attention(erpnext):
	from sales_records import make_customer, make_sales_order

	customer = make_customer("Desk Card Customer")
	assert card_number(SALES_ORDER_SYNC_CARD) == 0
	for status, submit in (
		("Failed", True),
		("Retry Pending", True),
		("Error", True),
		("Synced", True),
		("Pending", True),
		("Failed", False),  # a draft is not synced at all
	):
		name = make_sales_order(customer, submit=submit)
		frappe.db.set_value("Sales Order", name, "custom_sync_status", status, update_modified=False)
	assert card_number(SALES_ORDER_SYNC_CARD) == 3


def test_failed_jobs_chart_counts_the_last_7_days_by_method_for_system_managers_only():
	"""The chart Desk draws: migrate imported it and its source; the Desk loads the source's
	script and calls the method it names, as the user looking at the workspace."""
	from frappe.desk.doctype.dashboard_chart_source.dashboard_chart_source import get_config

	chart = frappe.get_doc("Dashboard Chart", FAILED_JOBS_CHART)
	assert (chart.chart_type, chart.source, chart.module, chart.is_standard) == (
		"Custom",
		FAILED_JOBS_CHART,
		"MyApp",
		1,
	)
	assert [row.role for row in chart.roles] == ["System Manager"]
	script = get_config(chart.source)
	method = script.split('method: "')[1].split('"')[0]
	assert f'chart_sources["{chart.source}"]' in script

	def failed(method, days, n=1):
		frappe.get_doc(
			{
				"doctype": "Failed Job",
				"method": method,
				"arguments": f'{{"n": {n}}}',
				"dedup_key": f"{method}-{days}-{n}",
				"status": "Open",
				"attempts": 1,
				"first_failed_at": days_ago(days),
				"last_failed_at": days_ago(days),
			}
		).insert(ignore_permissions=True)

	for n in range(3):
		failed("myapp.sync.push_to_external", 1, n)
	failed("myapp.tasks.daily_cleanup", 6)
	failed("myapp.tasks.daily_cleanup", 8, 2)  # before the window
	failed("other_app.tasks.nightly", 30)
	frappe.db.commit()
	assert method == "myapp.api.failed_jobs_by_method_chart"
	data = call_endpoint(method, chart_name=chart.name, filters="{}", refresh=1)
	assert data["labels"] == ["myapp.sync.push_to_external", "myapp.tasks.daily_cleanup"]
	assert data["datasets"][0]["values"] == [3, 1]

	make_user("chart.viewer@myapp.test", roles=["Sales User"])
	assert not frappe.has_permission("Dashboard Chart", doc=chart, user="chart.viewer@myapp.test")
	with pytest.raises(frappe.PermissionError):
		call_endpoint(method, user="chart.viewer@myapp.test", chart_name=chart.name)


@pytest.mark.skipif(not BENCH_SITE, reason="the testbed has no Desk page builder")
def test_desk_page_shows_the_cards():
	from frappe.desk.desktop import get_desktop_page

	page = get_desktop_page(json.dumps({"name": WORKSPACE, "title": WORKSPACE, "public": 1}))
	names = [card.number_card_name for card in page["number_cards"]["items"]]
	assert SHIPPED_CARDS <= set(names)
	assert [chart.chart_name for chart in page["charts"]["items"]] == [FAILED_JOBS_CHART]
	assert {s.link_to for s in page["shortcuts"]["items"]} >= {"Scheduled Job Log", "RQ Job", "Error Log"}
