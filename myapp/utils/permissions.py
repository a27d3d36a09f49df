"""Field-level permissions (permlevels), computed as v15's `Document.get_permlevel_access` does."""

import frappe


def permlevels(doctype: str, ptype: str = "read", user: str | None = None) -> set[int]:
	"""The permission levels at which `user` has `ptype` on `doctype` through their roles."""
	user = user or frappe.session.user
	if user == "Administrator":
		return set(range(10))
	roles = set(frappe.get_roles(user))
	return {
		perm.get("permlevel") or 0
		for perm in frappe.get_meta(doctype).permissions
		if perm.get(ptype) and perm.get("role") in roles
	}
