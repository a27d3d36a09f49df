import frappe
from frappe.model.document import Document
from frappe.utils import add_to_date, now_datetime


class ScheduledJobLog(Document):
	# status: "Scheduled" (the Select's first option, set on insert), then "Start",
	# "Complete" or "Failed", written with db_set by ScheduledJobType.update_scheduler_log

	@staticmethod
	def clear_old_logs(days=90):
		# one set-based delete, as v15 does (its version uses frappe.qb)
		frappe.db.delete("Scheduled Job Log", {"modified": ["<", add_to_date(now_datetime(), days=-days)]})
