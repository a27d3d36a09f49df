# Copyright (c) 2026, MyApp Contributors and contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import cint

POSITIVE_FIELDS = (
	"timeout",
	"batch_size",
	"max_attempts",
	"stop_after_consecutive_failures",
	"backoff_base",
	"backoff_cap",
)


class SyncSettings(Document):
	def validate(self):
		for fieldname in POSITIVE_FIELDS:
			if cint(self.get(fieldname)) < 1:
				frappe.throw(_("{0} must be at least 1").format(_(self.meta.get_field(fieldname).label)))
		if cint(self.backoff_cap) < cint(self.backoff_base):
			frappe.throw(_("Backoff Cap must not be smaller than Backoff Base"))
		self.base_url = (self.base_url or "").strip().rstrip("/")
		if self.base_url and not self.base_url.startswith(("http://", "https://")):
			frappe.throw(_("Base URL must start with http:// or https://"))
		if self.enabled and not self.base_url:
			frappe.throw(_("Set the Base URL before enabling the sync"))
