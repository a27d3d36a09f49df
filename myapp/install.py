"""Install and migrate: the app's custom fields and default settings, idempotent.

Runs on `after_install` and on every `after_migrate`, so a custom field whose DocType arrives
later (ERPNext installed after myapp) is added by the next migrate.
"""

import frappe
from frappe.custom.doctype.custom_field.custom_field import create_custom_fields
from frappe.utils import cast

from myapp.utils import doctype_exists
from myapp.workspace import add_sales_order_sync_card

APP_MODULE = "MyApp"

# Settings Singles whose defaults (from their DocType JSON) are filled in when missing.
APP_SETTINGS = ("Maintenance Settings", "Sync Settings", "Report Settings", "Scheduler Health Settings")

# {DocType: [field, ...]}: added only to DocTypes that exist on the site, and a Link field only
# when the DocType it links to exists (Desk refuses to open a form linking a missing DocType).
CUSTOM_FIELDS: dict[str, list[dict]] = {}

# The pull's company and warehouse (myapp.sync.pulled_order): ERPNext's DocTypes, so custom fields
# of the app's own Sync Settings, added with ERPNext.
CUSTOM_FIELDS["Sync Settings"] = [
	{
		"fieldname": "company",
		"fieldtype": "Link",
		"label": "Company for New Orders",
		"options": "Company",
		"insert_after": "pull_section",
		"description": "Company of the Sales Orders created from records pulled from the external system.",
	},
	{
		"fieldname": "default_warehouse",
		"fieldtype": "Link",
		"label": "Default Warehouse",
		"options": "Warehouse",
		"insert_after": "company",
		"description": "Delivery warehouse of a pulled order's stock items when the record names none and "
		"the Item has no default warehouse for the order's company. Must belong to that company; else "
		"Stock Settings' Default Warehouse is tried, then the record is skipped.",
	},
]

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

# Weekly digest (myapp.newsletter): the user's subscription, and the week last sent to them, which
# keeps a re-run in the same week from sending twice.
CUSTOM_FIELDS["User"] = [
	{
		"fieldname": "custom_weekly_digest",
		"fieldtype": "Check",
		"label": "Weekly Digest",
		"description": "Receive the weekly digest email on Mondays.",
		"insert_after": "language",
		"default": "0",
	},
	{
		"fieldname": "custom_weekly_digest_sent_for",
		"fieldtype": "Date",
		"label": "Weekly Digest Last Sent (week starting)",
		"insert_after": "custom_weekly_digest",
		"read_only": 1,
		"no_copy": 1,
		"depends_on": "custom_weekly_digest",
	},
]

# Chunked invoice processing (myapp.invoices): when and by which run a draft was processed. no_copy,
# so a duplicated invoice is processed again. A run that fails on an invoice stamps it with the run
# and leaves `custom_processed` unset.
CUSTOM_FIELDS["Sales Invoice"] = [
	{
		"fieldname": "custom_processing_section",
		"fieldtype": "Section Break",
		"label": "Background Processing",
		"insert_after": "amended_from",
		"collapsible": 1,
	},
	{
		"fieldname": "custom_processed",
		"fieldtype": "Check",
		"label": "Processed",
		"insert_after": "custom_processing_section",
		"default": "0",
		"read_only": 1,
		"no_copy": 1,
		"in_standard_filter": 1,
	},
	{
		"fieldname": "custom_processed_on",
		"fieldtype": "Datetime",
		"label": "Processed On",
		"insert_after": "custom_processed",
		"read_only": 1,
		"no_copy": 1,
	},
	{
		"fieldname": "custom_processing_run",
		"fieldtype": "Link",
		"label": "Processing Run",
		"options": "Invoice Processing Run",
		"insert_after": "custom_processed_on",
		"read_only": 1,
		"no_copy": 1,
		"search_index": 1,
	},
]
# The runs claim "draft and not processed" in name order: this index serves that range directly,
# however many submitted invoices the table holds.
INVOICE_PROCESSING_INDEX = "myapp_unprocessed_drafts"
# An import's jobs claim its first pending chunk in file order with FOR UPDATE SKIP LOCKED: this
# index serves that in order, so a claim stops at the chunk it takes. (Without it, the database
# reads and sorts every chunk of the import, locking them all, and the other jobs find none.)
# Not on status: a chunk marked Done would move in the index, into a gap that another job's claim
# holds locked, and two jobs finishing their chunks would deadlock (measured: they did).
IMPORT_CHUNK_INDEX = "myapp_import_chunks"
IMPORT_CHUNK_INDEX_FIELDS = ["import_log", "first_row"]

# Expiry reminders (myapp.expiry): the seed's EXPIRY_CONFIGS, created as Expiry Rules for the DocTypes
# a site has (Contract comes with ERPNext; License and Insurance Policy only if a site defines them).
# A field that the DocType lacks (Contract has no `contract_owner`) falls back to the owner.
DEFAULT_EXPIRY_RULES = (
	{"document_type": "Contract", "date_field": "end_date", "days_before": "30, 7, 1", "user_field": "contract_owner"},
	{"document_type": "License", "date_field": "valid_till", "days_before": "60, 30, 7", "user_field": "assigned_to"},
	{"document_type": "Insurance Policy", "date_field": "expiry_date", "days_before": "30, 14, 7", "user_field": "owner"},
)  # fmt: skip
# Job Retry Policies (myapp.job_center) for the app's jobs that are safe to run again: the push
# sends only the orders still due, one order per transaction; the pull re-reads from its committed
# cursor and upserts. Both run without arguments. Imports are never retried (they resume instead).
TRANSIENT_DATABASE_ERRORS = ("frappe.exceptions.QueryDeadlockError", "frappe.exceptions.QueryTimeoutError")
TRANSIENT_HTTP_ERRORS = ("requests.exceptions.Timeout", "requests.exceptions.ConnectionError")
DEFAULT_RETRY_POLICIES = (
	{"method_pattern": "myapp.sync.push_to_external", "max_attempts": 5, "backoff_base_seconds": 60},
	{"method_pattern": "myapp.sync.sync_from_external", "max_attempts": 3, "backoff_base_seconds": 120},
)
EXPIRY_LOG_UNIQUE_FIELDS = ("reference_doctype", "reference_name", "days_before")
EXPIRY_LOG_UNIQUE_INDEX = "unique_reference_days_before"


def after_install():
	setup()


def after_migrate():
	setup()


def setup():
	create_app_custom_fields()
	add_invoice_processing_index()
	frappe.db.add_index("CSV Import Chunk", IMPORT_CHUNK_INDEX_FIELDS, IMPORT_CHUNK_INDEX)
	create_default_settings()
	add_expiry_log_unique_index()
	create_default_expiry_rules()
	create_default_retry_policies()
	add_sales_order_sync_card()  # after the custom fields it counts by
	frappe.db.commit()


def create_app_custom_fields():
	# `module` ties each field to the app, so Frappe shows whose it is (and updates old installs)
	available = {
		doctype: [
			{**field, "module": APP_MODULE}
			for field in fields
			if field["fieldtype"] != "Link" or doctype_exists(field["options"])
		]
		for doctype, fields in CUSTOM_FIELDS.items()
		if doctype_exists(doctype)
	}
	if any(available.values()):
		create_custom_fields(available, ignore_validate=True)


def before_uninstall():
	"""`bench --site S uninstall-app myapp`: remove what the app added outside its own module.

	Frappe deletes the app's DocTypes (and tables), workspace and number cards with its module,
	but not the columns of custom fields it added to other apps' DocTypes, an index on such a
	table, or the Scheduled Job Types of its hooks (the scheduler would go on calling code that
	is gone)."""
	if doctype_exists("Sales Invoice"):
		table = "tabSales Invoice"
		if frappe.db.has_index(table, INVOICE_PROCESSING_INDEX):
			frappe.db.sql_ddl(f"alter table `{table}` drop index `{INVOICE_PROCESSING_INDEX}`")
	for doctype, fields in CUSTOM_FIELDS.items():
		for field in fields:
			name = frappe.db.get_value("Custom Field", {"dt": doctype, "fieldname": field["fieldname"]})
			if name:
				frappe.delete_doc("Custom Field", name, ignore_permissions=True, force=True)
			# a Single (Sync Settings) keeps its values in tabSingles: no table, no column
			if frappe.db.table_exists(doctype) and frappe.db.has_column(doctype, field["fieldname"]):
				frappe.db.sql_ddl(f"alter table `tab{doctype}` drop column `{field['fieldname']}`")
		if doctype_exists(doctype):
			frappe.clear_cache(doctype=doctype)
	for job_type in frappe.get_all(
		"Scheduled Job Type", filters={"method": ("like", "myapp.%")}, pluck="name"
	):
		# its on_trash deletes the job type's Scheduled Job Logs
		frappe.delete_doc("Scheduled Job Type", job_type, ignore_permissions=True, force=True)
	frappe.db.commit()


def add_invoice_processing_index():
	if doctype_exists("Sales Invoice") and frappe.db.has_column("Sales Invoice", "custom_processed"):
		frappe.db.add_index("Sales Invoice", ["docstatus", "custom_processed"], INVOICE_PROCESSING_INDEX)


def create_default_settings():
	"""Fill each settings field that has no value with its DocType default; never overwrite a value."""
	for doctype in APP_SETTINGS:
		settings = frappe.get_single(doctype)
		stored = set(frappe.db.sql("select field from `tabSingles` where doctype=%s", doctype, pluck=True))
		changed = False
		for df in settings.meta.fields:
			if df.get("default") is not None and df.fieldname not in stored:
				settings.set(df.fieldname, cast(df.fieldtype, df.default))
				changed = True
		if changed:
			settings.flags.ignore_permissions = True
			settings.save()


def add_expiry_log_unique_index():
	"""One Expiry Notification Log per (document, days before): the claim a reminder run takes."""
	table = "tabExpiry Notification Log"
	if frappe.db.has_index(table, EXPIRY_LOG_UNIQUE_INDEX):
		return
	frappe.db.add_unique("Expiry Notification Log", list(EXPIRY_LOG_UNIQUE_FIELDS), EXPIRY_LOG_UNIQUE_INDEX)
	if not frappe.db.has_index(table, EXPIRY_LOG_UNIQUE_INDEX):
		# v15's add_unique looks the name up in information_schema without the schema, so another
		# site's database on the same server can make it skip this one.
		columns = ", ".join(f"`{field}`" for field in EXPIRY_LOG_UNIQUE_FIELDS)
		frappe.db.sql_ddl(f"alter table `{table}` add unique `{EXPIRY_LOG_UNIQUE_INDEX}`({columns})")


def create_default_expiry_rules():
	"""The seed's rules, for the DocTypes (and date fields) this site has; never overwrites a rule."""
	for rule in DEFAULT_EXPIRY_RULES:
		if not doctype_exists(rule["document_type"]):
			continue
		meta = frappe.get_meta(rule["document_type"])
		if not meta.has_field(rule["date_field"]):
			continue
		if frappe.db.exists(
			"Expiry Rule", {"document_type": rule["document_type"], "date_field": rule["date_field"]}
		):
			continue
		user_field = rule["user_field"]
		user_df = meta.get_field(user_field)
		if not (user_df and user_df.fieldtype == "Link" and user_df.options == "User"):
			user_field = ""  # the owner
		frappe.get_doc({"doctype": "Expiry Rule", "enabled": 1, **rule, "user_field": user_field}).insert(
			ignore_permissions=True
		)


def create_default_retry_policies():
	"""The app's own retry policies; never overwrites a policy of the same pattern (disable one rather
	than delete it: the next migrate creates a missing default again)."""
	for policy in DEFAULT_RETRY_POLICIES:
		if frappe.db.exists("Job Retry Policy", {"method_pattern": policy["method_pattern"]}):
			continue
		frappe.get_doc(
			{
				"doctype": "Job Retry Policy",
				"enabled": 1,
				"backoff_factor": 2,
				"max_backoff_seconds": 3600,
				"jitter": 1,
				"notify_role": "System Manager",
				"quiet_period_minutes": 60,
				"transient_exceptions": "\n".join(TRANSIENT_DATABASE_ERRORS + TRANSIENT_HTTP_ERRORS),
				**policy,
			}
		).insert(ignore_permissions=True)
