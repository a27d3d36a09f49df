"""A draft Sales Order from a pulled external record, complete enough for ERPNext 15 to accept it.

ERPNext's Sales Order validation (sales_order.py, selling_controller.py, stock_controller.py,
accounts_controller.py, stock/get_item_details.py) needs, for an order of type "Sales":
a delivery date on the order and on every item row, not before the order date; a delivery
warehouse of the order's company on every row of a stock item (else WarehouseRequired); and a
conversion rate for an order in a currency other than the company's (left empty, or 1, ERPNext
looks the rate up, possibly on the web). Everything is therefore decided here, and a record that
cannot make a valid order raises ValueError with the reason (the pull logs it and skips it).
"""

import frappe
from frappe import _
from frappe.utils import flt, getdate, nowdate

from myapp.sync.constants import ORDER


def create_order(record: dict, external_id: str, settings):
	customer = record.get("customer")
	if not customer or not frappe.db.exists("Customer", customer):
		raise ValueError(_("Customer {0} does not exist").format(repr(customer)))
	# a custom field, there with ERPNext only
	company = record.get("company") or settings.get("company")
	if not company or not frappe.db.exists("Company", company):
		raise ValueError(
			_("Company {0} does not exist (set Company for New Orders in Sync Settings)").format(
				repr(company)
			)
		)
	currency, conversion_rate = order_currency(record, company)
	transaction_date = getdate(record.get("date") or nowdate())
	delivery_date = getdate(record.get("delivery_date") or transaction_date)
	if delivery_date < transaction_date:
		raise ValueError(
			_("delivery_date {0} is before the order date {1}").format(delivery_date, transaction_date)
		)
	lines = record.get("items")
	if not lines or not isinstance(lines, list):
		raise ValueError(_("record has no items"))
	items = [item_row(line, record, company, settings, delivery_date) for line in lines]
	warehouses = {row["warehouse"] for row in items}
	doc = frappe.get_doc(
		{
			"doctype": ORDER,
			"order_type": "Sales",
			"customer": customer,
			"company": company,
			"transaction_date": transaction_date,
			"delivery_date": delivery_date,
			"currency": currency,
			"conversion_rate": conversion_rate,
			# ERPNext takes both from the selling price list and sets them to 1 when that list is in
			# the company currency; preset, so that it never has to look an exchange rate up
			"price_list_currency": currency,
			"plc_conversion_rate": conversion_rate,
			# the external system's rates are the agreed prices: no pricing rule may change them
			"ignore_pricing_rule": 1,
			# as ERPNext's own reset_default_field_value does when every row has the same warehouse
			"set_warehouse": warehouses.pop() if len(warehouses) == 1 else None,
			"items": items,
			"custom_external_id": external_id,
			"custom_external_status": record.get("status"),
		}
	)
	doc.flags.from_external_sync = True
	doc.insert(ignore_permissions=True)
	return doc


def order_currency(record: dict, company: str) -> tuple[str, float]:
	"""(currency, conversion_rate): the company's currency at 1, or the record's own with its rate."""
	company_currency = frappe.db.get_value("Company", company, "default_currency")
	if not company_currency:
		raise ValueError(_("Company {0} has no default currency").format(company))
	currency = str(record.get("currency") or "").strip() or company_currency
	if currency == company_currency:
		return currency, 1.0
	if not frappe.db.exists("Currency", currency):
		raise ValueError(_("Currency {0} does not exist").format(repr(currency)))
	conversion_rate = flt(record.get("conversion_rate"), 9)
	# ERPNext treats a rate of exactly 1 between two currencies as unset and looks one up
	if conversion_rate <= 0 or conversion_rate == 1:
		raise ValueError(
			_(
				"The record is in {0}, not in {1} (the currency of company {2}), and has no conversion_rate (1 {0} = ? {1})"
			).format(currency, company_currency, company)
		)
	return currency, conversion_rate


def item_row(line, record: dict, company: str, settings, delivery_date) -> dict:
	if not isinstance(line, dict):
		raise ValueError(_("an item line is not an object"))
	sku = line.get("sku")
	item = (
		frappe.db.get_value(
			"Item", str(sku), ["name", "item_name", "stock_uom", "is_stock_item"], as_dict=True
		)
		if sku
		else None
	)
	if not item:
		raise ValueError(_("Item {0} does not exist").format(repr(sku)))
	qty = flt(line.get("qty"))
	if qty <= 0:
		raise ValueError(_("Item {0}: qty must be greater than 0").format(item.name))
	warehouse, tried = pick_warehouse(
		item.name, company, line.get("warehouse") or record.get("warehouse"), settings
	)
	if item.is_stock_item and not warehouse:
		raise ValueError(
			_("Item {0} is a stock item and no warehouse is set: {1}").format(item.name, "; ".join(tried))
		)
	return {
		"item_code": item.name,
		"item_name": item.item_name or item.name,
		"qty": qty,
		# qty is in the item's stock UOM (ERPNext would otherwise pick the item's sales UOM)
		"uom": item.stock_uom,
		"stock_uom": item.stock_uom,
		"conversion_factor": 1,
		"rate": flt(line.get("rate")),
		"delivery_date": delivery_date,
		"warehouse": warehouse,
	}


def pick_warehouse(item_code: str, company: str, requested, settings) -> tuple[str | None, list[str]]:
	"""The delivery warehouse of a row, and why each source before it was not used.

	In order: the record's own warehouse, the Item's default warehouse for the company (Item
	Default), Sync Settings' Default Warehouse, Stock Settings' Default Warehouse. Each must be an
	enabled, non-group warehouse of the order's company (ERPNext rejects any other)."""
	# read lazily: most rows stop at the first or second source
	sources = (
		(_("the record's warehouse"), lambda: requested),
		(
			_("the default warehouse of Item {0} for company {1}").format(item_code, company),
			lambda: frappe.db.get_value(
				"Item Default",
				{"parent": item_code, "parenttype": "Item", "company": company},
				"default_warehouse",
			),
		),
		(_("the Default Warehouse in Sync Settings"), lambda: settings.get("default_warehouse")),
		(
			_("the Default Warehouse in Stock Settings"),
			lambda: frappe.db.get_single_value("Stock Settings", "default_warehouse"),
		),
	)
	tried = []
	for source, read in sources:
		warehouse = read()
		if not warehouse:
			tried.append(_("{0} is not set").format(source))
			continue
		problem = warehouse_problem(warehouse, company)
		if not problem:
			return warehouse, tried
		tried.append(_("{0} ({1}) {2}").format(source, warehouse, problem))
	return None, tried


def warehouse_problem(warehouse, company: str) -> str | None:
	"""Why ERPNext would not accept the warehouse on an order of the company; None when it would."""
	row = frappe.db.get_value("Warehouse", str(warehouse), ["company", "is_group", "disabled"], as_dict=True)
	if not row:
		return _("does not exist")
	if row.company != company:
		return _("belongs to company {0}").format(row.company)
	if row.disabled:
		return _("is disabled")
	if row.is_group:
		return _("is a group warehouse")
	return None
