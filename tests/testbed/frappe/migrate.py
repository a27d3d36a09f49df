"""`bench migrate` for the testbed: patches, tables from DocType JSON, workspaces, scheduler sync,
number cards, after_migrate hooks (v15's order)."""

import os

import frappe
from frappe.model.meta import doctype_json_index, get_column_type, get_meta, get_table_definition


def sync_table(doctype):
	"""Create the DocType's table, or add the columns and indexes it lacks (Frappe's updatedb)."""
	meta = get_meta(doctype, cached=False)
	if meta.issingle or meta.is_virtual:
		return
	table = f"tab{doctype}"
	if table not in frappe.db.get_tables():
		frappe.db.sql_ddl(get_table_definition(meta))
		return
	existing = {c.lower() for c in frappe.db.get_db_table_columns(table)}
	from frappe.model.meta import column_definition
	from frappe.utils import cint, cstr, flt

	for df in meta.fields:
		column_type = get_column_type(df)
		if not column_type or df.fieldname.lower() in existing:
			continue
		frappe.db.sql_ddl(
			f"alter table `{table}` add column `{df.fieldname}` {column_definition(df, column_type, cint, flt, cstr)}"
		)
		if df.get("search_index") and column_type not in ("text", "longtext") and not df.get("unique"):
			frappe.db.sql_ddl(f"alter table `{table}` add index `{df.fieldname}_index`(`{df.fieldname}`)")


def sync_all_tables():
	for doctype in doctype_json_index():
		sync_table(doctype)


def _patches(app):
	"""Patch lines of an app's patches.txt, both sections in order, comments skipped."""
	path = frappe.get_app_path(app, "patches.txt")
	if not os.path.exists(path):
		return []
	with open(path) as f:
		lines = [line.strip() for line in f.read().splitlines()]
	return [line for line in lines if line and not line.startswith(("#", "["))]


def run_patches():
	for app in frappe.get_installed_apps():
		for patch in _patches(app):
			if frappe.db.exists("Patch Log", {"patch": patch}):
				continue
			module = patch.split(" ", 1)[0]
			frappe.get_attr(module + ".execute")()
			frappe.get_doc({"doctype": "Patch Log", "patch": patch}).insert(ignore_permissions=True)
			frappe.db.commit()


def migrate():
	frappe.flags.in_migrate = True
	try:
		for fn in frappe.get_hooks("before_migrate"):
			frappe.get_attr(fn)()
		sync_all_tables()
		frappe.clear_cache()
		run_patches()
		from frappe.core.doctype.scheduled_job_type.scheduled_job_type import sync_jobs
		from frappe.model.sync import sync_all
		from frappe.utils.dashboard import sync_dashboards

		sync_all()  # workspaces
		sync_jobs()
		sync_dashboards()  # number cards
		for fn in frappe.get_hooks("after_migrate"):
			frappe.get_attr(fn)()
		frappe.db.commit()
	finally:
		frappe.flags.in_migrate = False
