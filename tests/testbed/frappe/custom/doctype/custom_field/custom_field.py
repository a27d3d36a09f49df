"""Custom Field: a field added to another DocType's meta and table (v15 semantics)."""

import frappe
from frappe import _
from frappe.model.document import Document


class CustomField(Document):
	def autoname(self):
		self.set_fieldname()
		self.name = f"{self.dt}-{self.fieldname}"

	def set_fieldname(self):
		if not self.fieldname:
			label = self.label or ""
			if not label:
				frappe.throw(_("Label is mandatory"))
			self.fieldname = "".join(c for c in frappe.scrub(label) if c.isalnum() or c == "_")
		self.fieldname = self.fieldname.lower()

	def validate(self):
		self.set_fieldname()
		if self.fieldname in frappe.get_meta(self.dt).get_valid_columns() and self.is_new():
			if not frappe.db.exists("Custom Field", {"dt": self.dt, "fieldname": self.fieldname}):
				frappe.throw(
					_("A field with the name {0} already exists in {1}").format(
						frappe.bold(self.fieldname), self.dt
					)
				)

	def on_update(self):
		# Frappe's updatedb: the new column lands in the table (DDL commits)
		from frappe.migrate import sync_table

		frappe.clear_cache(doctype=self.dt)
		sync_table(self.dt)

	def on_trash(self):
		frappe.clear_cache(doctype=self.dt)


def create_custom_field(doctype, df, ignore_validate=False, is_system_generated=True):
	df = frappe._dict(df)
	if not df.fieldname and df.label:
		df.fieldname = frappe.scrub(df.label)
	if not frappe.db.get_value("Custom Field", {"dt": doctype, "fieldname": df.fieldname}):
		custom_field = frappe.get_doc(
			{
				"doctype": "Custom Field",
				"dt": doctype,
				"permlevel": 0,
				"fieldtype": "Data",
				"hidden": 0,
				"is_system_generated": is_system_generated,
			}  # noqa: E501
		)
		custom_field.update(df)
		custom_field.flags.ignore_validate = ignore_validate
		custom_field.insert(ignore_permissions=True)
		return custom_field


def create_custom_fields(custom_fields: dict, ignore_validate=False, update=True):
	"""Add or update Custom Fields: {"DocType" or ("A", "B"): [{fieldname, label, fieldtype, ...}]}."""
	try:
		frappe.flags.in_create_custom_fields = True
		doctypes_to_update = set()
		for doctypes, fields in custom_fields.items():
			if isinstance(fields, dict):
				fields = [fields]
			if isinstance(doctypes, str):
				doctypes = (doctypes,)
			for doctype in doctypes:
				doctypes_to_update.add(doctype)
				for df in fields:
					field = frappe.db.get_value("Custom Field", {"dt": doctype, "fieldname": df["fieldname"]})
					if not field:
						try:
							df = df.copy()
							df["owner"] = "Administrator"
							create_custom_field(doctype, df, ignore_validate=ignore_validate)
						except frappe.exceptions.DuplicateEntryError:
							pass
					elif update:
						custom_field = frappe.get_doc("Custom Field", field)
						custom_field.flags.ignore_validate = ignore_validate
						custom_field.update(df)
						custom_field.save()
		for doctype in doctypes_to_update:
			frappe.clear_cache(doctype=doctype)
	finally:
		frappe.flags.in_create_custom_fields = False
