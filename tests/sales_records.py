"""ERPNext records for tests: master data (Company, Currency, Customer Group, ...) created once per
site, and submitted Sales Orders / Sales Invoices with a chosen creation time or posting date.

Totals are given, not computed: the testbed's ERPNext stand-ins do not calculate taxes or totals."""

import datetime

import frappe

COMPANY = "MyApp Test Company"
CURRENCY = "USD"


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


def make_item(item_code, item_name=None):
	ensure_master_data()
	if not frappe.db.exists("Item", item_code):
		frappe.get_doc(
			{
				"doctype": "Item",
				"item_code": item_code,
				"item_name": item_name or item_code,
				"item_group": "All Item Groups",
				"stock_uom": "Nos",
			}
		).insert(ignore_permissions=True)
	return item_code


def make_sales_order(customer, grand_total=100, creation=None, submit=True):
	doc = frappe.get_doc(
		{
			"doctype": "Sales Order",
			"customer": customer,
			"company": COMPANY,
			"currency": CURRENCY,
			"transaction_date": (creation or datetime.datetime.now()).date(),
			"items": [{"item_name": "Service", "qty": 1, "rate": grand_total, "amount": grand_total}],
			"grand_total": grand_total,
		}
	).insert(ignore_permissions=True)
	if submit:
		doc.submit()
	if creation:
		backdate("Sales Order", doc.name, creation)
	return doc.name


def make_sales_invoice(customer, posting_date, items, currency=CURRENCY, creation=None, submit=True):
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
			"posting_date": posting_date,
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
