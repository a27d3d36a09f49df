"""Install and migrate: the app's custom fields and default settings, idempotent.

Runs on `after_install` and on every `after_migrate`, so a custom field whose DocType arrives
later (ERPNext installed after myapp) is added by the next migrate.
"""

import frappe
from frappe.custom.doctype.custom_field.custom_field import create_custom_fields

# Settings Singles whose defaults (from their DocType JSON) are filled in when missing.
APP_SETTINGS = ("Maintenance Settings", "Sync Settings")

# {DocType: [field, ...]}: added only to DocTypes that exist on the site.
CUSTOM_FIELDS: dict[str, list[dict]] = {}

# External sync (myapp.sync): one status model on Sales Order. Set by the sync on submitted
# orders, hence allow_on_submit; no_copy, so a duplicate starts unsynced.
CUSTOM_FIELDS["Sales Order"] = [
	{
		"fieldname": "custom_sync_section",
		"fieldtype": "Section Break",
		"label": "External Sync",
		"insert_after": "update_auto_repeat_reference",
		"collapsible": 1,
	},
	{
		"fieldname": "custom_sync_status",
		"fieldtype": "Select",
		"label": "Sync Status",
		"options": "\nPending\nSynced\nRetry Pending\nFailed\nError",
		"insert_after": "custom_sync_section",
		"read_only": 1,
		"allow_on_submit": 1,
		"no_copy": 1,
		"in_standard_filter": 1,
		"search_index": 1,
	},
	{
		"fieldname": "custom_sync_attempts",
		"fieldtype": "Int",
		"label": "Sync Attempts",
		"insert_after": "custom_sync_status",
		"read_only": 1,
		"allow_on_submit": 1,
		"no_copy": 1,
	},
	{
		"fieldname": "custom_next_sync_at",
		"fieldtype": "Datetime",
		"label": "Next Sync Attempt",
		"insert_after": "custom_sync_attempts",
		"read_only": 1,
		"allow_on_submit": 1,
		"no_copy": 1,
	},
	{
		"fieldname": "custom_sync_date",
		"fieldtype": "Datetime",
		"label": "Last Synced On",
		"insert_after": "custom_next_sync_at",
		"read_only": 1,
		"allow_on_submit": 1,
		"no_copy": 1,
	},
	{
		"fieldname": "custom_sync_column_break",
		"fieldtype": "Column Break",
		"insert_after": "custom_sync_date",
	},
	{
		"fieldname": "custom_external_id",
		"fieldtype": "Data",
		"label": "External ID",
		"insert_after": "custom_sync_column_break",
		"read_only": 1,
		"allow_on_submit": 1,
		"no_copy": 1,
		"search_index": 1,
	},
	{
		"fieldname": "custom_external_status",
		"fieldtype": "Data",
		"label": "External Status",
		"insert_after": "custom_external_id",
		"read_only": 1,
		"allow_on_submit": 1,
		"no_copy": 1,
	},
	{
		"fieldname": "custom_sync_error",
		"fieldtype": "Small Text",
		"label": "Last Sync Error",
		"insert_after": "custom_external_status",
		"read_only": 1,
		"allow_on_submit": 1,
		"no_copy": 1,
	},
]


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
