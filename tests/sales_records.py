"""ERPNext records for tests: master data (Company, Currency, Customer Group, ...) created once per
site, and submitted Sales Orders / Sales Invoices with a chosen creation time or posting date.

Totals are given, not computed: the testbed's ERPNext stand-ins do not calculate taxes or totals.
Stock items get a default warehouse of the company (Item Defaults), and Sales Orders a delivery
date, as ERPNext 15 requires of a Sales Order."""

import datetime

import frappe

COMPANY = "MyApp Test Company"
CURRENCY = "USD"
SERVICE_ITEM = "SERVICE"
# ERPNext refuses a document in another currency without an exchange rate (a test site has no
# Currency Exchange records and must not look one up): the fixtures use this one unless told
TEST_EXCHANGE_RATE = 1.1


def ensure_master_data():
	"""The records the sales documents link to; created when missing, kept between tests."""
	records = [
		("Currency", "USD", {"currency_name": "USD", "symbol": "$", "enabled": 1}),
		("Currency", "EUR", {"currency_name": "EUR", "symbol": "€", "enabled": 1}),
		("Country", "United States", {"country_name": "United States"}),
		(
			"Customer Group",
			"All Customer Groups",
			{"customer_group_name": "All Customer Groups", "is_group": 1},
		),
		("Territory", "All Territories", {"territory_name": "All Territories", "is_group": 1}),
		("Item Group", "All Item Groups", {"item_group_name": "All Item Groups", "is_group": 1}),
		("UOM", "Nos", {"uom_name": "Nos"}),
		(
			"Company",
			COMPANY,
			{
				"company_name": COMPANY,
				"abbr": "MTC",
				"default_currency": CURRENCY,
				"country": "United States",
			},
		),
	]
	for doctype, name, values in records:
		if frappe.db.exists(doctype, name):
			continue
		meta = frappe.get_meta(doctype)
		doc = frappe.get_doc({"doctype": doctype, **{k: v for k, v in values.items() if meta.has_field(k)}})
		doc.insert(ignore_permissions=True)
	frappe.db.commit()


def make_customer(customer_name, creation=None):
	ensure_master_data()
	doc = frappe.get_doc(
		{
			"doctype": "Customer",
			"customer_name": customer_name,
			"customer_group": "All Customer Groups",
			"territory": "All Territories",
		}
	).insert(ignore_permissions=True)
	if creation:
		backdate("Customer", doc.name, creation)
	return doc.name


def ensure_warehouse(company=COMPANY, warehouse_name="Stores"):
	"""The company's warehouse of that name ("Stores - MTC" in ERPNext, which creates it with the
	company on a real site), created when missing."""
	name = frappe.db.get_value(
		"Warehouse", {"warehouse_name": warehouse_name, "company": company, "is_group": 0}
	)
	if name:
		return name
	return (
		frappe.get_doc({"doctype": "Warehouse", "warehouse_name": warehouse_name, "company": company})
		.insert(ignore_permissions=True)
		.name
	)


def set_default_warehouse(item_code, company=COMPANY, warehouse=None):
	"""The item's default warehouse for the company (an Item Defaults row, as ERPNext keeps it)."""
	warehouse = warehouse or ensure_warehouse(company)
	row = frappe.db.get_value(
		"Item Default",
		{"parent": item_code, "parenttype": "Item", "company": company},
		["name", "default_warehouse"],
		as_dict=True,
	)
	if row:
		if row.default_warehouse != warehouse:
			frappe.db.set_value("Item Default", row.name, "default_warehouse", warehouse)
	else:
		item = frappe.get_doc("Item", item_code)
		item.append("item_defaults", {"company": company, "default_warehouse": warehouse})
		item.save(ignore_permissions=True)
	return warehouse


def make_item(item_code, item_name=None, is_stock_item=1, company=COMPANY):
	"""An Item; a stock item gets the company's "Stores" warehouse as its default warehouse."""
	ensure_master_data()
	if not frappe.db.exists("Item", item_code):
		frappe.get_doc(
			{
				"doctype": "Item",
				"item_code": item_code,
				"item_name": item_name or item_code,
				"item_group": "All Item Groups",
				"stock_uom": "Nos",
				"is_stock_item": is_stock_item,
			}
		).insert(ignore_permissions=True)
	if is_stock_item and company:
		set_default_warehouse(item_code, company)
	return item_code


def make_sales_order(customer, grand_total=100, creation=None, submit=True):
	transaction_date = (creation or datetime.datetime.now()).date()
	doc = frappe.get_doc(
		{
			"doctype": "Sales Order",
			"customer": customer,
			"company": COMPANY,
			"currency": CURRENCY,
			"transaction_date": transaction_date,
			"delivery_date": transaction_date,
			"items": [
				{
					# ERPNext requires an item on every row; a service needs no warehouse
					"item_code": make_item(SERVICE_ITEM, "Service", is_stock_item=0),
					"item_name": "Service",
					"qty": 1,
					"rate": grand_total,
					"amount": grand_total,
					"delivery_date": transaction_date,
				}
			],
			"grand_total": grand_total,
		}
	).insert(ignore_permissions=True)
	if submit:
		doc.submit()
	if creation:
		backdate("Sales Order", doc.name, creation)
	return doc.name


def make_sales_invoice(
	customer, posting_date, items, currency=CURRENCY, creation=None, submit=True, conversion_rate=None
):
	"""`items`: [(item_code, qty, rate)]; grand_total is the sum of qty * rate."""
	rows = []
	for item_code, qty, rate in items:
		rows.append(
			{
				"item_code": item_code,
				"item_name": frappe.db.get_value("Item", item_code, "item_name") or item_code,
				"qty": qty,
				"rate": rate,
				"amount": qty * rate,
			}
		)
	doc = frappe.get_doc(
		{
			"doctype": "Sales Invoice",
			"customer": customer,
			"company": COMPANY,
			"currency": currency,
			"conversion_rate": 1 if currency == CURRENCY else (conversion_rate or TEST_EXCHANGE_RATE),
			"posting_date": posting_date,
			# ERPNext sets posting_date to today unless asked to keep the one given
			"set_posting_time": 1,
			"items": rows,
			"grand_total": sum(row["amount"] for row in rows),
		}
	).insert(ignore_permissions=True)
	if submit:
		doc.submit()
	if creation:
		backdate("Sales Invoice", doc.name, creation)
	return doc.name


def backdate(doctype, name, when):
	frappe.db.sql(f"update `tab{doctype}` set creation=%s, modified=%s where name=%s", (when, when, name))
