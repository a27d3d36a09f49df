"""Role permissions (DocPerm rows of the DocType JSON), `if_owner`, and User Permissions, as in v15."""

import copy

import frappe

rights = ("select", "read", "write", "create", "delete", "submit", "cancel", "amend", "print", "email", "report", "import", "export", "share")  # fmt: skip
AUTOMATIC_ROLES = ("Administrator", "Guest", "All", "Desk User")


def get_roles(user=None, with_standard=True):
	user = user or frappe.session.user
	if user == "Guest" or not user:
		return ["Guest"]
	if user == "Administrator":
		roles = frappe.db.sql_list("select name from `tabRole`") if frappe.db.table_exists("Role") else []
		return list(dict.fromkeys([*roles, "Administrator", "All", "Guest"]))
	roles = frappe.db.sql_list(
		"""select r.role from `tabHas Role` r join `tabUser` u on u.name = r.parent
		where r.parent=%s and r.parenttype='User' and u.enabled=1""",
		user,
	)
	user_type = frappe.db.get_value("User", user, "user_type")
	standard = ["All", "Guest"] + (["Desk User"] if user_type == "System User" else [])
	return list(dict.fromkeys(roles + (standard if with_standard else [])))


def get_role_permissions(doctype_meta, user=None, is_owner=None, debug=False) -> dict:
	"""v15: {ptype: 0/1, "if_owner": {ptype: 0/1}, "has_if_owner_enabled": bool} for permlevel 0.

	A right that the user's roles grant only with `if_owner` is in "if_owner" (1 only when
	`is_owner`); for "select"/"read" the plain right stays 1 so that lists can be filtered by owner."""
	meta = frappe.get_meta(doctype_meta) if isinstance(doctype_meta, str) else doctype_meta
	user = user or frappe.session.user
	if user == "Administrator":
		return allow_everything()
	roles = set(get_roles(user))
	applicable = [
		p for p in meta.permissions if p.get("role") in roles and frappe.utils.cint(p.get("permlevel")) == 0
	]
	has_if_owner_enabled = any(p.get("if_owner", 0) for p in applicable)
	perms = frappe._dict(if_owner={}, has_if_owner_enabled=has_if_owner_enabled)
	for ptype in rights:
		pvalue = any(p.get(ptype, 0) for p in applicable)
		perms[ptype] = frappe.utils.cint(pvalue)
		if (
			pvalue
			and has_if_owner_enabled
			and not any(p.get(ptype, 0) and not p.get("if_owner", 0) for p in applicable)
			and ptype != "create"
		):
			perms["if_owner"][ptype] = frappe.utils.cint(pvalue and is_owner)
			perms[ptype] = 1 if ptype in ("select", "read") else 0
	return perms


def allow_everything():
	return {ptype: 1 for ptype in rights}


def get_doctype_roles(doctype, access_type="read"):
	"""Roles that are allowed `access_type` on the DocType (v15)."""
	return [d.role for d in frappe.get_meta(doctype).get("permissions") if d.get(access_type)]


def get_doctypes_with_read(user=None):
	"""DocTypes (of the installed apps) on which one of the user's roles has read at permlevel 0."""
	from frappe.model.meta import doctype_json_index

	roles = set(get_roles(user))
	result = []
	for doctype in doctype_json_index():
		meta = frappe.get_meta(doctype)
		if any(
			p.get("read") and p.get("role") in roles and not frappe.utils.cint(p.get("permlevel"))
			for p in meta.permissions
		):
			result.append(doctype)
	return result


def has_controller_permissions(doc, ptype, user=None, debug=False) -> bool:
	"""v15: the `has_permission` hooks can only deny (the last hook returning non-None decides)."""
	user = user or frappe.session.user
	hooks = frappe.get_hooks("has_permission", {})
	methods = hooks.get(doc.doctype, []) + hooks.get("*", [])
	for method in reversed(methods):
		controller_permission = frappe.call(method, doc=doc, ptype=ptype, user=user, debug=debug)
		if controller_permission is not None:
			return bool(controller_permission)
	return True


def get_doc_permissions(doc, user=None, ptype=None, debug=False) -> dict:
	"""v15: the evaluated permissions of a document (controller hooks, if_owner, User Permissions)."""
	user = user or frappe.session.user
	meta = frappe.get_meta(doc.doctype)
	is_owner = (doc.get("owner") or "").lower() == user.lower()
	if not has_controller_permissions(doc, ptype, user=user, debug=debug):
		return {ptype: 0}
	permissions = copy.deepcopy(get_role_permissions(meta, user=user, is_owner=is_owner))
	if not frappe.utils.cint(meta.get("is_submittable")):
		permissions["submit"] = 0
	if not frappe.utils.cint(meta.get("allow_import")):
		permissions["import"] = 0
	if permissions.get("has_if_owner_enabled"):
		permissions.update(permissions.get("if_owner", {}))
	if not doc_matches_user_permissions(doc, user):
		if is_owner:
			permissions = dict(permissions.get("if_owner", {}))
			permissions["create"] = 0
		else:
			permissions = {}
	return permissions


def has_permission(
	doctype,
	ptype="read",
	doc=None,
	user=None,
	raise_exception=True,
	print_logs=False,
	*,
	parent_doctype=None,
	debug=False,
	ignore_share_permissions=False,
):
	user = user or frappe.session.user
	if user == "Administrator":
		return True
	if not doc and hasattr(doctype, "doctype"):
		doc, doctype = doctype, doctype.doctype
	meta = frappe.get_meta(doctype)
	if meta.istable:
		if parent_doctype:
			return has_permission(parent_doctype, ptype, user=user)
		if doc is not None and not isinstance(doc, str) and doc.get("parenttype"):
			return has_permission(doc.get("parenttype"), ptype, user=user)
		return False

	if doc is not None:
		if isinstance(doc, str | int):
			doc = frappe.get_doc(meta.name, doc)
		return bool(get_doc_permissions(doc, user=user, ptype=ptype).get(ptype))
	if ptype == "submit" and not frappe.utils.cint(meta.get("is_submittable")):
		return False
	if ptype == "import" and not frappe.utils.cint(meta.get("allow_import")):
		return False
	return bool(get_role_permissions(meta, user=user).get(ptype))


def can_import(doctype, raise_exception=False):
	if not ("System Manager" in frappe.get_roles() or has_permission(doctype, "import")):
		if raise_exception:
			raise frappe.PermissionError(f"You are not allowed to import: {doctype}")
		return False
	return True


def can_export(doctype, raise_exception=False, is_owner=False):
	if "System Manager" in frappe.get_roles():
		return True
	role_permissions = get_role_permissions(doctype, is_owner=is_owner)
	has_access = role_permissions.get("export") or role_permissions.get("if_owner").get("export")
	if not has_access and raise_exception:
		raise frappe.PermissionError(frappe._("You are not allowed to export {} doctype").format(doctype))
	return has_access


def get_user_permissions(user) -> dict:
	"""{allow: [{"doc": value, "applicable_for": doctype or None}]} like frappe.core.doctype.user_permission."""
	if user == "Administrator" or not frappe.db.table_exists("User Permission"):
		return {}
	result = {}
	for row in frappe.db.sql(
		"select allow, for_value, apply_to_all_doctypes, applicable_for from `tabUser Permission` where user=%s",
		user,
		as_dict=True,
	):
		result.setdefault(row.allow, []).append(
			frappe._dict(
				doc=row.for_value, applicable_for=None if row.apply_to_all_doctypes else row.applicable_for
			)
		)
	return result


def _allowed_values(entries, doctype):
	return [e.doc for e in entries if not e.applicable_for or e.applicable_for == doctype]


def get_user_permission_conditions(doctype, user) -> tuple[list[str], list]:
	user_permissions = get_user_permissions(user)
	if not user_permissions:
		return [], []
	meta = frappe.get_meta(doctype)
	conditions, values = [], []
	if doctype in user_permissions and (allowed := _allowed_values(user_permissions[doctype], doctype)):
		conditions.append(f"`tab{doctype}`.`name` in ({', '.join(['%s'] * len(allowed))})")
		values += allowed
	for df in meta.get_link_fields():
		if df.options in user_permissions and (
			allowed := _allowed_values(user_permissions[df.options], doctype)
		):
			column = f"`tab{doctype}`.`{df.fieldname}`"
			conditions.append(
				f"(ifnull({column}, '') = '' or {column} in ({', '.join(['%s'] * len(allowed))}))"
			)
			values += allowed
	return conditions, values


def doc_matches_user_permissions(doc, user) -> bool:
	user_permissions = get_user_permissions(user)
	if not user_permissions:
		return True
	if doc.doctype in user_permissions:
		allowed = _allowed_values(user_permissions[doc.doctype], doc.doctype)
		if allowed and doc.name not in allowed:
			return False
	for df in frappe.get_meta(doc.doctype).get_link_fields():
		if df.options in user_permissions and doc.get(df.fieldname):
			allowed = _allowed_values(user_permissions[df.options], doc.doctype)
			if allowed and doc.get(df.fieldname) not in allowed:
				return False
	return True
