"""Frappe's model constants (frappe/model/__init__.py)."""

data_fieldtypes = (
	"Currency", "Int", "Long Int", "Float", "Percent", "Check", "Small Text", "Long Text", "Code",
	"Text Editor", "Markdown Editor", "HTML Editor", "Date", "Datetime", "Time", "Text", "Data", "Link",
	"Dynamic Link", "Password", "Select", "Rating", "Read Only", "Attach", "Attach Image", "Signature",
	"Color", "Barcode", "Geolocation", "Duration", "Icon", "Phone", "Autocomplete", "JSON",
)  # fmt: skip
table_fields = ("Table", "Table MultiSelect")
no_value_fields = (
	"Section Break", "Column Break", "Tab Break", "HTML", "Table", "Table MultiSelect", "Button",
	"Image", "Fold", "Heading",
)  # fmt: skip
display_fieldtypes = (
	"Section Break",
	"Column Break",
	"Tab Break",
	"HTML",
	"Button",
	"Image",
	"Fold",
	"Heading",
)
numeric_fieldtypes = ("Currency", "Int", "Long Int", "Float", "Percent", "Check", "Rating", "Duration")
default_fields = ("doctype", "name", "owner", "creation", "modified", "modified_by", "docstatus", "idx")
child_table_fields = ("parent", "parentfield", "parenttype")
optional_fields = ("_user_tags", "_comments", "_assign", "_liked_by", "_seen")
log_types = (
	"Version", "Error Log", "Scheduled Job Log", "Event Sync Log", "Event Update Log", "Access Log",
	"View Log", "Activity Log", "Energy Point Log", "Notification Log", "Email Queue", "DocShare",
	"Document Follow", "Console Log",
)  # fmt: skip
core_doctypes_list = (
	"DefaultValue", "DocType", "DocField", "DocPerm", "DocType Action", "DocType Link", "User", "Role",
	"Has Role", "Page", "Module Def", "Print Format", "Report", "Customize Form", "Customize Form Field",
	"Property Setter", "Custom Field", "Client Script",
)  # fmt: skip
CORE_DOCTYPES = frozenset(core_doctypes_list)
