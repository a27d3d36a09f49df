# Copyright (c) 2026, MyApp Contributors and contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document

DATE_FIELDTYPES = ("Date", "Datetime")


class ExpiryRule(Document):
	def validate(self):
		meta = self.validate_document_type()
		self.validate_date_field(meta)
		self.validate_user_field(meta)
		self.days_before = ", ".join(str(days) for days in parse_days_before(self.days_before))

	def validate_document_type(self):
		meta = frappe.get_meta(self.document_type)
		if meta.istable or meta.issingle or meta.get("is_virtual"):
			frappe.throw(_("{0} has no documents of its own to remind about").format(_(self.document_type)))
		return meta

	def validate_date_field(self, meta):
		df = meta.get_field(self.date_field)
		if not df or df.fieldtype not in DATE_FIELDTYPES:
			frappe.throw(
				_("{0} is not a Date or Datetime field of {1}").format(self.date_field, _(self.document_type))
			)

	def validate_user_field(self, meta):
		if not self.user_field or self.user_field == "owner":
			return
		df = meta.get_field(self.user_field)
		if not df or df.fieldtype != "Link" or df.options != "User":
			frappe.throw(
				_("{0} is not a Link to User field of {1}").format(self.user_field, _(self.document_type))
			)


def parse_days_before(value) -> list[int]:
	"""'30, 7,1' -> [30, 7, 1]: distinct whole days >= 0, largest first."""
	days = set()
	for part in str(value or "").replace(";", ",").split(","):
		part = part.strip()
		if not part:
			continue
		if not part.isdigit():
			frappe.throw(_("Remind Days Before: {0} is not a whole number of days").format(frappe.bold(part)))
		days.add(int(part))
	if not days:
		frappe.throw(_("Remind Days Before needs at least one number of days"))
	return sorted(days, reverse=True)
