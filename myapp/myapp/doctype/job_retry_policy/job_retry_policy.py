# Copyright (c) 2026, MyApp Contributors and contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import cint, flt


class JobRetryPolicy(Document):
	"""Which failed jobs are retried automatically, how often, and who hears when they give up."""

	def validate(self):
		self.method_pattern = (self.method_pattern or "").strip()
		if cint(self.max_attempts) < 1:
			frappe.throw(_("Max Attempts must be at least 1 (the first run)"))
		if flt(self.backoff_factor) < 1:
			frappe.throw(_("Factor must be 1 or more"))
		types = [line.strip() for line in (self.transient_exceptions or "").splitlines() if line.strip()]
		if not types:
			frappe.throw(_("List at least one transient exception type"))
		self.transient_exceptions = "\n".join(types)
