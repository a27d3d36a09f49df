import frappe
from frappe.model.document import Document
from frappe.utils import add_to_date, now_datetime


class ErrorLog(Document):
	def onload(self):
		# opening an Error Log marks it seen, as in v15
		if not self.seen and not frappe.flags.read_only:
			self.db_set("seen", 1, update_modified=0)
			frappe.db.commit()

	@staticmethod
	def clear_old_logs(days=30):
		# one set-based delete, as v15 does (its version uses frappe.qb)
		frappe.db.delete("Error Log", {"modified": ["<", add_to_date(now_datetime(), days=-days)]})


@frappe.whitelist()
def clear_error_logs():
	"""Flush all Error Logs"""
	frappe.only_for("System Manager")
	frappe.db.delete("Error Log")
