# Copyright (c) 2026, MyApp Contributors and contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import cint, split_emails, validate_email_address


class SchedulerHealthSettings(Document):
	def validate(self):
		for fieldname in ("stuck_job_minutes", "quiet_period_minutes"):
			if cint(self.get(fieldname)) < 1:
				frappe.throw(_("{0} must be at least 1").format(_(self.meta.get_field(fieldname).label)))
		lines = (self.extra_recipients or "").replace("\n", ",").replace(";", ",")
		for address in split_emails(lines):
			validate_email_address(address, throw=True)
