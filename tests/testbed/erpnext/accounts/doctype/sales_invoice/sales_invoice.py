# Testbed stand-in for ERPNext v15's Sales Invoice controller: currency / exchange rate, the
# warehouse of stock items when it updates stock, outstanding amount and status.
import frappe
from frappe import _
from frappe.utils import cint, flt, getdate, nowdate

from erpnext.controllers.selling_controller import SellingController


class SalesInvoice(SellingController):
	def validate(self):
		super().validate()
		if not cint(self.set_posting_time):
			# as ERPNext's validate_posting_time: a posting date is today unless it is to be kept
			self.posting_date = nowdate()
		if cint(self.update_stock):
			self.validate_warehouse()
		if self.docstatus == 0:
			self.outstanding_amount = flt(self.rounded_total or self.grand_total)
		self.set_status()

	def validate_warehouse(self):
		for d in self.get("items"):
			if not d.warehouse and d.item_code and frappe.db.get_value("Item", d.item_code, "is_stock_item"):
				frappe.throw(_("Warehouse required for stock Item {0}").format(d.item_code))

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
