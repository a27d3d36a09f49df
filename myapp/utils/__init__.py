"""Small helpers shared by the app's jobs; each concern of its own lives in a module beside this one."""

import frappe


def doctype_exists(doctype: str) -> bool:
	"""Whether the site has this DocType (ERPNext's are there only when ERPNext is installed)."""
	return bool(frappe.db.exists("DocType", doctype))
