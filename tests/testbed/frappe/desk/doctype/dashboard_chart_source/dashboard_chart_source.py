"""Dashboard Chart Source as in Frappe v15: an app ships one as `<module>/dashboard_chart_source/
<name>/<name>.json` (imported by `bench migrate`) beside `<name>.js`, which registers the method
that returns the chart's data in `frappe.dashboards.chart_sources`; `get_config` hands that script
to the Desk."""

import os

import frappe
from frappe import get_module_path, scrub
from frappe.model.document import Document


@frappe.whitelist()
def get_config(name):
	doc = frappe.get_doc("Dashboard Chart Source", name)
	with open(
		os.path.join(
			get_module_path(doc.module), "dashboard_chart_source", scrub(doc.name), scrub(doc.name) + ".js"
		)
	) as f:
		return f.read()


class DashboardChartSource(Document):
	pass
