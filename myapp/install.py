"""Install and migrate: the app's custom fields and default settings, idempotent.

Runs on `after_install` and on every `after_migrate`, so a custom field whose DocType arrives
later (ERPNext installed after myapp) is added by the next migrate.
"""

import frappe
from frappe.custom.doctype.custom_field.custom_field import create_custom_fields

# Settings Singles whose defaults (from their DocType JSON) are filled in when missing.
APP_SETTINGS = ("Maintenance Settings",)

# {DocType: [field, ...]}: added only to DocTypes that exist on the site.
CUSTOM_FIELDS: dict[str, list[dict]] = {}


def after_install():
	setup()


def after_migrate():
	setup()


def setup():
	create_app_custom_fields()
	create_default_settings()
	frappe.db.commit()


def doctype_exists(doctype: str) -> bool:
	return bool(frappe.db.exists("DocType", doctype))


def create_app_custom_fields():
	available = {doctype: fields for doctype, fields in CUSTOM_FIELDS.items() if doctype_exists(doctype)}
	if available:
		create_custom_fields(available, ignore_validate=True)


def create_default_settings():
	"""Fill each settings field that has no value with its DocType default; never overwrite a value."""
	for doctype in APP_SETTINGS:
		settings = frappe.get_single(doctype)
		stored = set(frappe.db.sql("select field from `tabSingles` where doctype=%s", doctype, pluck=True))
		changed = False
		for df in settings.meta.fields:
			if df.get("default") is not None and df.fieldname not in stored:
				settings.set(df.fieldname, df.default)
				changed = True
		if changed:
			settings.flags.ignore_permissions = True
			settings.save()
