app_name = "myapp"
app_title = "MyApp"
app_publisher = "MyApp Contributors"
app_description = "Scheduled and background jobs for Frappe / ERPNext: maintenance, reports, exports, imports, sync, digests, expiry reminders and scheduler health"
app_email = "maintainers@myapp.dev"
app_license = "mit"

# Installation
# ------------
# Idempotent: custom fields and default settings, again on every migrate (ERPNext may arrive later).
after_install = "myapp.install.after_install"
after_migrate = "myapp.install.after_migrate"
# What Frappe's uninstall leaves: custom field columns, an index, the app's Scheduled Job Types.
before_uninstall = "myapp.install.before_uninstall"

# Scheduled Tasks
# ---------------
# Each entry becomes a Scheduled Job Type on `bench migrate`; `*_long` run on the long queue.
scheduler_events = {
	"daily": [
		"myapp.tasks.daily_cleanup",
		"myapp.expiry.check_expiring_documents",
	],
	"daily_long": [
		"myapp.maintenance.daily_database_maintenance",
	],
	"hourly": [
		"myapp.sync.sync_from_external",
		"myapp.tasks.sync_to_external_system",
	],
	"cron": {
		# Every minute, not "all" (every 4 min in v15, and without a Scheduled Job Log): RQ keeps at
		# most 1,000 failed jobs per queue for the whole bench, retries are due to the minute, and a
		# failing capture shows in Scheduled Job Log, which the health check reads.
		"* * * * *": ["myapp.job_center.capture_failed_jobs"],
		"*/15 * * * *": ["myapp.sync.push_to_external", "myapp.tasks.scheduler_health_check"],
		"0 9 * * 1-5": ["myapp.tasks.weekday_summary_email"],
		"0 8 * * 1": ["myapp.newsletter.send_weekly_digest"],
	},
}

# Every failed background job of the site (any app) becomes a Failed Job as it fails
# (myapp.job_center): RQ's failed registries drop jobs beyond 1,000 per queue at once.
after_job = ["myapp.job_center.record_failed_run"]

# Frappe's Log Settings clears old Sync Logs daily (days editable there, like Error Log's 14)
default_log_clearing_doctypes = {
	"Sync Log": 30,
}

# External sync (myapp.sync): a submitted order, or a submitted amendment, waits for the next push.
doc_events = {
	"Sales Order": {
		"before_insert": "myapp.sync.reset_sync_fields_on_copy",
		"before_submit": "myapp.sync.mark_pending_on_submit",
	},
}

# Desk: what the CSV Import Log's DocType picker leaves out (frappe.boot.myapp_import_refused_doctypes)
boot_session = "myapp.boot.boot_session"

# Desk: list view menu items on every list (myapp/public/js/list_menu.js), form scripts
app_include_js = "/assets/myapp/js/list_menu.js"
doctype_js = {
	"Customer": "public/js/customer.js",
	"Sales Order": "public/js/sales_order.js",
}
