"""Number Card as in Frappe v15: named after its label; `get_result`, what the Desk calls for a "Document Type" card
(the card's aggregate over `frappe.get_list`, i.e. with the user's permissions)."""

import frappe
from frappe.model.document import Document
from frappe.model.naming import append_number_if_name_exists
from frappe.utils import flt


class NumberCard(Document):
	def autoname(self):
		if not self.name:
			self.name = self.label

		if frappe.db.exists("Number Card", self.name):
			self.name = append_number_if_name_exists("Number Card", self.name)


@frappe.whitelist()
def get_result(doc, filters, to_date=None):
	doc = frappe.parse_json(doc)
	sql_function_map = {"Count": "count", "Sum": "sum", "Average": "avg", "Minimum": "min", "Maximum": "max"}
	function = sql_function_map[doc.function]
	if function == "count":
		fields = [f"{function}(*) as result"]
	else:
		fields = [f"{function}({doc.aggregate_function_based_on}) as result"]

	if not filters:
		filters = []
	elif isinstance(filters, str):
		filters = frappe.parse_json(filters)

	if to_date:
		filters.append([doc.document_type, "creation", "<", to_date])

	res = frappe.get_list(
		doc.document_type, fields=fields, filters=filters, parent_doctype=doc.parent_document_type
	)
	number = res[0]["result"] if res else 0
	return flt(number)
