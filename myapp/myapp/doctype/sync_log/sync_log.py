# Copyright (c) 2026, MyApp Contributors and contributors
# For license information, please see license.txt

import frappe
from frappe.model.document import Document
from frappe.utils import add_days, now_datetime


class SyncLog(Document):
	"""One push or pull run: what it attempted, what happened, where the pull cursor moved."""

	@staticmethod
	def clear_old_logs(days=30):
		"""Log Settings' daily clean-up calls this (hooks.py registers Sync Log with its default days)."""
		frappe.db.delete("Sync Log", {"creation": ("<", add_days(now_datetime(), -int(days)))})
