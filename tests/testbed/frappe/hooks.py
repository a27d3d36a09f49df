app_name = "frappe"
app_title = "Frappe Framework"
app_publisher = "Frappe Technologies (testbed stand-in)"
app_license = "mit"

# the controller permission hooks of v15's frappe/hooks.py, for the DocTypes the testbed has
permission_query_conditions = {
	"ToDo": "frappe.desk.doctype.todo.todo.get_permission_query_conditions",
	"User": "frappe.core.doctype.user.user.get_permission_query_conditions",
	"File": "frappe.core.doctype.file.file.get_permission_query_conditions",
}

has_permission = {
	"ToDo": "frappe.desk.doctype.todo.todo.has_permission",
	"User": "frappe.core.doctype.user.user.has_permission",
	"File": "frappe.core.doctype.file.file.has_permission",
	"Dashboard Chart": "frappe.desk.doctype.dashboard_chart.dashboard_chart.has_permission",
}
