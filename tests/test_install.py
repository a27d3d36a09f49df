"""Install, migrate and uninstall leave a site as a Frappe admin expects."""

import frappe
import pytest
from conftest import NO_ERPNEXT, connect_site
from support import BENCH_SITE, _site_name, _sites_path, install_test_site

from myapp.install import CUSTOM_FIELDS, INVOICE_PROCESSING_INDEX, before_uninstall

UNINSTALL = "-uninstall"


@pytest.fixture
def throwaway_site(site):
	"""A site of its own with frappe, erpnext and myapp (the uninstall drops columns)."""
	if BENCH_SITE:
		pytest.skip(
			"uninstalls the app: run `bench --site S uninstall-app myapp` on a throwaway bench site instead"
		)
	install_test_site(variant=UNINSTALL)
	try:
		yield _site_name(UNINSTALL)
	finally:
		if getattr(frappe.local, "db", None):
			frappe.db.rollback()
		connect_site()


def app_custom_field_columns():
	return [
		(doctype, field["fieldname"])
		for doctype, fields in CUSTOM_FIELDS.items()
		for field in fields
		if frappe.db.table_exists(doctype) and frappe.db.has_column(doctype, field["fieldname"])
	]


def test_custom_fields_belong_to_the_app_module():
	fields = frappe.get_all(
		"Custom Field", filters={"fieldname": ("like", "custom_%")}, fields=["dt", "fieldname", "module"]
	)
	ours = {(doctype, field["fieldname"]) for doctype, fields in CUSTOM_FIELDS.items() for field in fields}
	mine = [f for f in fields if (f.dt, f.fieldname) in ours]
	assert mine and all(f.module == "MyApp" for f in mine)


def test_before_uninstall_removes_columns_index_and_scheduled_job_types(throwaway_site):
	assert frappe.local.site == throwaway_site
	assert app_custom_field_columns()
	assert frappe.db.has_index("tabSales Invoice", INVOICE_PROCESSING_INDEX)
	assert frappe.get_all("Scheduled Job Type", filters={"method": ("like", "myapp.%")})
	other = frappe.get_doc(
		{"doctype": "Scheduled Job Type", "method": "otherapp.tasks.tick", "frequency": "Daily"}
	).insert(ignore_permissions=True)

	before_uninstall()

	assert app_custom_field_columns() == []
	assert frappe.get_all("Custom Field", filters={"module": "MyApp"}) == []
	assert not frappe.db.has_index("tabSales Invoice", INVOICE_PROCESSING_INDEX)
	assert frappe.get_all("Scheduled Job Type", filters={"method": ("like", "myapp.%")}) == []
	assert frappe.db.exists("Scheduled Job Type", other.name), "another app's job type stays"


def links_to_missing_doctypes():
	"""(DocType, field, target) of every Link or Table field of the app's DocTypes, custom fields
	included, whose target DocType this site lacks: Desk refuses to open such a form."""
	import json
	from pathlib import Path

	import myapp

	missing = []
	for path in sorted((Path(myapp.__file__).parent / "myapp" / "doctype").glob("*/*.json")):
		doctype = json.loads(path.read_text())["name"]
		for df in frappe.get_meta(doctype).fields:
			# "DocType" is one on every site (the testbed has no row for it)
			if (
				df.fieldtype in ("Link", "Table", "Table MultiSelect")
				and df.options != "DocType"
				and not frappe.db.exists("DocType", df.options)
			):
				missing.append((doctype, df.fieldname, df.options))
	return missing


def test_the_app_links_only_doctypes_the_site_has():
	assert links_to_missing_doctypes() == []
	if "erpnext" in frappe.get_installed_apps():
		# the pull's company and warehouse come with ERPNext, as custom fields of Sync Settings
		meta = frappe.get_meta("Sync Settings")
		assert (meta.get_field("company").options, meta.get_field("default_warehouse").options) == (
			"Company",
			"Warehouse",
		)


def test_without_erpnext_sync_settings_has_no_company_or_warehouse(site_without_erpnext):
	assert links_to_missing_doctypes() == []
	meta = frappe.get_meta("Sync Settings")
	assert not meta.get_field("company") and not meta.get_field("default_warehouse")
	frappe.get_single("Sync Settings").save()  # the form's save works too
