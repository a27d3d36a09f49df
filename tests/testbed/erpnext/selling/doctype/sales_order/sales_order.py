# Testbed stand-in for ERPNext v15's Sales Order controller: the checks of its validate that the
# app's paths meet (currency / exchange rate, delivery date, delivery warehouse) and its status.
import frappe
from frappe import _
from frappe.utils import cint, getdate

from erpnext.controllers.selling_controller import SellingController


class WarehouseRequired(frappe.ValidationError):
	pass


class SalesOrder(SellingController):
	def validate(self):
		super().validate()
		self.validate_delivery_date()
		self.validate_warehouse()
		self.set_status()

	def validate_delivery_date(self):
		if self.order_type == "Sales" and not self.skip_delivery_note:
			delivery_date_list = [d.delivery_date for d in self.get("items") if d.delivery_date]
			max_delivery_date = max(delivery_date_list) if delivery_date_list else None
			if (max_delivery_date and not self.delivery_date) or (
				max_delivery_date and getdate(self.delivery_date) != getdate(max_delivery_date)
			):
				self.delivery_date = max_delivery_date
			if self.delivery_date:
				for d in self.get("items"):
					if not d.delivery_date:
						d.delivery_date = self.delivery_date
					if getdate(self.transaction_date) > getdate(d.delivery_date):
						frappe.msgprint(
							_("Expected Delivery Date should be after Sales Order Date"),
							indicator="orange",
							title=_("Invalid Delivery Date"),
							raise_exception=True,
						)
			else:
				frappe.throw(_("Please enter Delivery Date"))

	def validate_warehouse(self):
		for d in self.get("items"):
			if (
				frappe.db.get_value("Item", d.item_code, "is_stock_item") == 1
				and not d.warehouse
				and not cint(d.delivered_by_supplier)
			):
				frappe.throw(
					_("Delivery warehouse required for stock item {0}").format(d.item_code), WarehouseRequired
				)

	def on_submit(self):
		self.set_status(update=True)

	def on_cancel(self):
		self.set_status(update=True)

	def set_status(self, update=False):
		if self.docstatus == 0:
			status = "Draft"
		elif self.docstatus == 2:
			status = "Cancelled"
		elif self.status in ("On Hold", "Closed", "Completed"):
			status = self.status
		else:
			status = "To Deliver and Bill"
		self.status = status
		if update:
			self.db_set("status", status, update_modified=False)
