"""Endpoint arguments: JSON that arrives as text is parsed once, with one clear error."""

import frappe
from frappe import _


def parse_json_argument(value, label: str):
	"""`value` parsed if it is a JSON string (as from a form post), else as given; a string
	that is not JSON is a DataError naming `label` ("Filters", "Fields", ...)."""
	if not isinstance(value, str):
		return value
	try:
		return frappe.parse_json(value)
	except ValueError:
		frappe.throw(_("{0} are not valid JSON").format(_(label)), frappe.DataError)
