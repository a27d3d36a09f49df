# Testbed stand-in for ERPNext v15's Contract controller: naming, dates and status.
import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import getdate, nowdate


class Contract(Document):
	def autoname(self):
		name = self.party_name
		if self.contract_template:
			name += f" - {self.contract_template} Agreement"

		# if identical, append the next number in the iteration
		if frappe.db.exists("Contract", name):
			count = len(frappe.get_all("Contract", filters={"name": ["like", f"%{name}%"]}))
			name = f"{name} - {count}"

		self.name = _(name)

	def validate(self):
		self.validate_dates()
		self.update_contract_status()

	def before_update_after_submit(self):
		self.update_contract_status()

	def validate_dates(self):
		if self.end_date and self.end_date < self.start_date:
			frappe.throw(_("End Date cannot be before Start Date."))

	def update_contract_status(self):
		if self.is_signed:
			self.status = get_status(self.start_date, self.end_date)
		else:
			self.status = "Unsigned"


def get_status(start_date, end_date):
	if not end_date:
		return "Active"

	start_date = getdate(start_date)
	end_date = getdate(end_date)
	now_date = getdate(nowdate())

	return "Active" if start_date <= now_date <= end_date else "Inactive"
