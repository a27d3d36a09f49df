"""Testbed stand-in for the part of ERPNext 15's AccountsController / SellingController that the
app's paths meet: the currency and its exchange rate, the item details ERPNext fills in
(`set_missing_item_details`), and the checks that refuse what ERPNext refuses."""

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import cint, flt

import erpnext


def validate_conversion_rate(currency, conversion_rate, conversion_rate_label, company):
	"""common validation for currency and price list currency (erpnext.controllers.accounts_controller)"""
	company_currency = frappe.db.get_value("Company", company, "default_currency")

	if not conversion_rate:
		frappe.throw(
			_("{0} is mandatory. Maybe Currency Exchange record is not created for {1} to {2}.").format(
				conversion_rate_label, currency, company_currency
			)
		)


class SellingController(Document):
	def validate(self):
		self.set_missing_values()
		self.validate_conversion_rate()

	def set_missing_values(self):
		company_currency = erpnext.get_company_currency(self.company) if self.company else None
		if not self.get("currency"):
			self.currency = company_currency
		if self.currency == company_currency:
			self.conversion_rate = 1.0
		# else ERPNext looks the rate up (Currency Exchange, then an exchange-rate API); a test site
		# has neither, so a missing rate stays missing and validate_conversion_rate refuses it
		self.set_missing_item_details()

	def set_missing_item_details(self):
		"""What ERPNext's get_item_details fills in for a row with an item_code (never overwriting)."""
		for item in self.get("items") or []:
			if not item.get("item_code"):
				continue
			details = frappe.db.get_value(
				"Item",
				item.item_code,
				["item_name", "description", "stock_uom", "is_stock_item"],
				as_dict=True,
			)
			if not details:
				continue
			for fieldname in ("item_name", "description", "stock_uom"):
				if item.get(fieldname) is None and details.get(fieldname) is not None:
					item.set(fieldname, details[fieldname])
			if item.meta.has_field("is_stock_item"):
				item.is_stock_item = cint(details.is_stock_item)
			if not item.get("uom"):
				item.uom = details.stock_uom
			if not flt(item.get("conversion_factor")) and item.uom == details.stock_uom:
				item.conversion_factor = 1.0
			if item.meta.has_field("warehouse") and not item.get("warehouse"):
				item.warehouse = self.get_default_warehouse(item)

	def get_default_warehouse(self, item):
		"""ERPNext's get_item_warehouse: the document's set_warehouse, else the item's default
		warehouse for the company (Item Default), else the global default warehouse (Stock
		Settings) when it belongs to the document's company."""
		if self.get("set_warehouse"):
			return self.set_warehouse
		item_default = frappe.db.get_value(
			"Item Default",
			{"parent": item.item_code, "parenttype": "Item", "company": self.company},
			"default_warehouse",
		)
		if item_default:
			return item_default
		default = frappe.db.get_default("default_warehouse")
		if not default and frappe.db.table_exists("Singles"):
			# Stock Settings.on_update makes its default_warehouse the global default
			default = frappe.db.get_single_value("Stock Settings", "default_warehouse")
		if default and frappe.db.exists("Warehouse", {"name": default, "company": self.company}):
			return default
		return None

	def validate_conversion_rate(self):
		company_currency = erpnext.get_company_currency(self.company)
		if not self.currency or self.currency == company_currency:
			self.currency = company_currency
			self.conversion_rate = 1.0
		else:
			validate_conversion_rate(
				self.currency,
				self.conversion_rate,
				_(self.meta.get_field("conversion_rate").label),
				self.company,
			)
		self.conversion_rate = flt(self.conversion_rate)
