# Testbed stand-in for ERPNext v15's Sales Invoice controller: outstanding amount and status.
from frappe.model.document import Document
from frappe.utils import flt, getdate, nowdate


class SalesInvoice(Document):
	def validate(self):
		if self.docstatus == 0:
			self.outstanding_amount = flt(self.rounded_total or self.grand_total)
		self.set_status()

	def on_submit(self):
		self.set_status(update=True)

	def on_cancel(self):
		self.set_status(update=True)

	def set_status(self, update=False):
		if self.docstatus == 0:
			status = "Draft"
		elif self.docstatus == 2:
			status = "Cancelled"
		elif self.is_return:
			status = "Return"
		elif flt(self.outstanding_amount) <= 0:
			status = "Paid"
		elif self.due_date and getdate(self.due_date) < getdate(nowdate()):
			status = "Overdue"
		else:
			status = "Unpaid"
		self.status = status
		if update:
			self.db_set("status", status, update_modified=False)
