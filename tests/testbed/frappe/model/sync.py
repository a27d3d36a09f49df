"""`frappe.model.sync` as in Frappe v15, for the records the testbed has DocTypes for: each
installed app's `<module>/dashboard_chart_source/<name>/<name>.json` and
`<module>/workspace/<name>/<name>.json`, imported by `bench migrate` (and by
`install-app`) before the `after_migrate` hooks. DocTypes themselves need no sync here (the
testbed reads their JSON directly)."""

import os

import frappe
from frappe.modules.import_file import import_file_by_path

IMPORTABLE_DOCTYPES = [("desk", "dashboard_chart_source"), ("desk", "workspace")]


def sync_all(force=0, reset_permissions=False):
	for app in frappe.get_installed_apps():
		sync_for(app, force, reset_permissions=reset_permissions)
	frappe.clear_cache()


def sync_for(app_name, force=0, reset_permissions=False):
	files = []
	for module_name in frappe.get_module_list(app_name):
		folder = frappe.get_app_path(app_name, frappe.scrub(module_name))
		files = get_doc_files(files=files, start_path=folder)
	for doc_path in files:
		import_file_by_path(doc_path, force=force, ignore_version=True, reset_permissions=reset_permissions)
		frappe.db.commit()


def get_doc_files(files, start_path):
	files = files or []
	for _module, doctype in IMPORTABLE_DOCTYPES:
		doctype_path = os.path.join(start_path, doctype)
		if os.path.exists(doctype_path):
			for docname in sorted(os.listdir(doctype_path)):
				if os.path.isdir(os.path.join(doctype_path, docname)):
					doc_path = os.path.join(doctype_path, docname, docname) + ".json"
					if os.path.exists(doc_path) and doc_path not in files:
						files.append(doc_path)
	return files
