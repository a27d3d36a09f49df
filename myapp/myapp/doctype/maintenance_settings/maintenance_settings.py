# Copyright (c) 2026, MyApp Contributors and contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import cint


class MaintenanceSettings(Document):
	def validate(self):
		for fieldname in ("max_files_per_run", "delete_batch_size", "time_budget_seconds"):
			if cint(self.get(fieldname)) < 1:
				frappe.throw(_("{0} must be at least 1").format(_(self.meta.get_field(fieldname).label)))
