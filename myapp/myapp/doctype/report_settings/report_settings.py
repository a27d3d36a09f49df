# Copyright (c) 2026, MyApp Contributors and contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import cint


class ReportSettings(Document):
	def validate(self):
		if cint(self.digest_top_items) < 1:
			frappe.throw(_("{0} must be at least 1").format(_(self.meta.get_field("digest_top_items").label)))
