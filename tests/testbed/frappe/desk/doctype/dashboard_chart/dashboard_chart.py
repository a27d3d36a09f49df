"""Dashboard Chart as in Frappe v15, for the charts an app ships (`<module>/dashboard_chart/`,
imported by `sync_dashboards`): standard charts are read-only outside developer mode, a chart other
than Custom / Report needs a Document Type, and a chart with Roles is shown to those roles only.
Not covered: the chart data endpoint `get` for Count / Sum / Average / Group By charts (a Custom
chart's data comes from its Dashboard Chart Source's method, which the Desk calls directly)."""

import json

import frappe
from frappe import _
from frappe.model.document import Document


def has_permission(doc, ptype, user):
	roles = frappe.get_roles(user)
	if "System Manager" in roles:
		return True
	if doc.roles:
		return bool(set(roles) & {row.role for row in doc.roles})
	if doc.chart_type == "Report":
		return False
	return bool(doc.document_type) and frappe.has_permission(doc.document_type, "read", user=user)


class DashboardChart(Document):
	def on_update(self):
		frappe.cache.delete_key(f"chart-data:{self.name}")

	def validate(self):
		if not frappe.conf.developer_mode and self.is_standard:
			frappe.throw(_("Cannot edit Standard charts"))
		if self.chart_type not in ("Custom", "Report"):
			if not self.document_type:
				frappe.throw(_("Document type is required to create a dashboard chart"))
			if self.chart_type == "Group By" and not self.group_by_based_on:
				frappe.throw(_("Group By field is required to create a dashboard chart"))
			if self.chart_type != "Group By" and not self.based_on:
				frappe.throw(_("Time series based on is required to create a dashboard chart"))
		if self.custom_options:
			try:
				json.loads(self.custom_options)
			except ValueError as error:
				frappe.throw(_("Invalid json added in the custom options: {0}").format(error))
