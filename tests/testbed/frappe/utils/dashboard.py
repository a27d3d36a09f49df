"""`sync_dashboards` as in Frappe v15 (frappe/utils/dashboard.py): `bench migrate` and `install-app`
import each module's `dashboard_chart/<name>/<name>.json` and `number_card/<name>/<name>.json`.
(v15 also imports `<module>_dashboard/`; the testbed has no Dashboard DocType.)"""

import os

import frappe
from frappe.modules.import_file import import_file_by_path


def sync_dashboards(app=None):
	apps = [app] if app else frappe.get_installed_apps()
	for app_name in apps:
		for module_name in frappe.get_module_list(app_name):
			frappe.flags.in_import = True
			for folder in ("dashboard_chart", "number_card"):
				make_records(frappe.get_app_path(app_name, frappe.scrub(module_name), folder))
			frappe.flags.in_import = False


def make_records(path, filters=None):
	if os.path.isdir(path):
		for fname in sorted(os.listdir(path)):
			if os.path.isdir(os.path.join(path, fname)) and fname != "__pycache__":
				import_file_by_path(f"{path}/{fname}/{fname}.json")
