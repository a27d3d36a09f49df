# Minimal stand-in for ERPNext's hooks.py (testbed only).
app_name = "erpnext"
app_title = "ERPNext"
app_publisher = "Frappe Technologies Pvt. Ltd."
app_description = "ERP made simple"
app_email = "hello@frappe.io"
app_license = "GNU General Public License (v3)"
required_apps = ["frappe"]

doc_events = {}
scheduler_events = {}
