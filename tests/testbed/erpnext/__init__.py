__version__ = "15.0.0"

import frappe


def get_company_currency(company):
	"""The company's default currency (ERPNext's erpnext.get_company_currency)."""
	return frappe.db.get_value("Company", company, "default_currency")
