# Testbed stand-in for ERPNext v15's Customer controller: only its naming.
import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import cint


class Customer(Document):
	def autoname(self):
		# ERPNext names customers by customer name (Selling Settings "Customer Name", the default),
		# appending " - N" when the name is taken.
		self.name = self.get_customer_name()

	def get_customer_name(self):
		if frappe.db.get_value("Customer", self.customer_name) and not frappe.flags.in_import:
			count = frappe.db.sql(
				"""select ifnull(MAX(CAST(SUBSTRING_INDEX(name, ' ', -1) AS UNSIGNED)), 0)
				from tabCustomer where name like %s""",
				f"%{self.customer_name} - %",
				as_list=1,
			)[0][0]
			new_customer_name = f"{self.customer_name} - {cint(count) + 1}"
			frappe.msgprint(
				_("Changed customer name to '{}' as '{}' already exists.").format(
					new_customer_name, self.customer_name
				),
				title=_("Note"),
				indicator="yellow",
			)
			return new_customer_name
		return self.customer_name
