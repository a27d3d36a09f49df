# Copyright (c) 2026, MyApp Contributors and contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import now_datetime

# Set by the job center only: a user retries through the Retry action.
SYSTEM_STATUSES = ("Retrying", "Retried")


class FailedJob(Document):
	"""A failed background job of this site (myapp.job_center records and retries it)."""

	def validate(self):
		if self.flags.from_job_center or self.is_new():
			return
		previous = self.get_doc_before_save()
		if not previous or previous.status == self.status:
			return
		if self.status in SYSTEM_STATUSES:
			frappe.throw(_("Use Retry to retry a failed job"))
		# an operator closed or reopened it
		self.acted_by = frappe.session.user
		self.next_retry_at = None
		if self.status == "Resolved":
			self.resolved_at = now_datetime()
