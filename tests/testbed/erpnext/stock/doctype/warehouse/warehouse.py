# Testbed stand-in for ERPNext v15's Warehouse controller: only its naming ("Stores - ABBR").
import frappe
from frappe.model.document import Document


class Warehouse(Document):
	def autoname(self):
		if self.company:
			suffix = " - " + frappe.db.get_value("Company", self.company, "abbr")
			if not self.warehouse_name.endswith(suffix):
				self.name = self.warehouse_name + suffix
				return

		self.name = self.warehouse_name
