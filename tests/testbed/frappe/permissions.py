"""Role permissions (DocPerm rows of the DocType JSON), `if_owner`, and User Permissions, as in v15."""

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


def get_role_permissions(doctype, user=None) -> dict:
	"""{ptype: 1, "if_owner": {ptype: 1}} for permlevel 0, merged over the user's roles."""
	meta = frappe.get_meta(doctype) if isinstance(doctype, str) else doctype
	roles = set(get_roles(user))
	perms = {"if_owner": {}}
	for p in meta.permissions:
		if p.get("permlevel", 0) or p.get("role") not in roles:
			continue
		for ptype in rights:
			if not p.get(ptype):
				continue
			if p.get("if_owner"):
				perms["if_owner"][ptype] = 1
			else:
				perms[ptype] = 1
	if perms.get("read"):
		perms["select"] = 1
	return perms


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
	meta = frappe.get_meta(doctype)
	if meta.istable and parent_doctype:
		return has_permission(parent_doctype, ptype, user=user)

	perms = get_role_permissions(meta, user)
	allowed = bool(perms.get(ptype))
	if doc is not None:
		if isinstance(doc, str):
			doc = frappe.get_doc(doctype, doc)
		if not allowed and perms["if_owner"].get(ptype):
			allowed = doc.get("owner") == user
		if allowed and not doc_matches_user_permissions(doc, user):
			allowed = False
	else:
		allowed = allowed or bool(perms["if_owner"].get(ptype))
	return allowed


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
