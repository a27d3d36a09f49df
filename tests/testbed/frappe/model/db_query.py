"""`frappe.get_all` / `frappe.get_list`: filters, fields, ordering, paging and (for get_list) permissions.

The filter compiler follows v15's `DatabaseQuery.prepare_filter_condition`: `!=`, `not in` and
`not like` see NULL as the field's fallback ('' or 0), so NULL rows match them as in Frappe.
Values are always bound as query parameters.
"""

import datetime
import re

import frappe
from frappe.model import default_fields, numeric_fieldtypes, optional_fields

OPERATORS = (
	"=", "!=", "<", ">", "<=", ">=", "like", "not like", "in", "not in", "is", "between",
)  # fmt: skip
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
FIELD_EXPRESSION = re.compile(
	r"^\s*(?:`?tab[\w ]+`?\.)?`?[\w]+`?(?:\s+as\s+`?\w+`?)?\s*$"
	r"|^\s*(count|sum|avg|min|max)\(\s*(distinct\s+)?(\*|(?:`?tab[\w ]+`?\.)?`?\w+`?)\s*\)(\s+as\s+`?\w+`?)?\s*$",
	re.IGNORECASE,
)


def normalize_filters(doctype, filters) -> list[tuple]:
	"""Filters as dict, list of [field, op, value] / [doctype, field, op, value] -> [(doctype, field, op, value)]."""
	if not filters:
		return []
	if isinstance(filters, str | int):
		return [(doctype, "name", "=", filters)]
	result = []
	if isinstance(filters, dict):
		items = list(filters.items())
		for fieldname, value in items:
			if isinstance(value, list | tuple) and value and str(value[0]).lower() in OPERATORS:
				operator = str(value[0]).lower()
				result.append((doctype, fieldname, operator, value[1] if len(value) > 1 else None))
			else:
				result.append((doctype, fieldname, "=", value))
		return result
	for f in filters:
		if isinstance(f, dict):
			result += normalize_filters(doctype, f)
			continue
		f = list(f)
		if len(f) == 3:
			f = [doctype, *f]
		elif len(f) > 4:
			f = f[:4]  # [doctype, field, op, value, hidden], as Number Cards and list views save them
		if len(f) != 4:
			frappe.throw(frappe._("Invalid filter: {0}").format(f))
		result.append((f[0], f[1], str(f[2]).lower(), f[3]))
	return result


def _fieldtype(doctype, fieldname):
	if fieldname in ("creation", "modified"):
		return "Datetime"
	if fieldname in ("docstatus", "idx"):
		return "Int"
	df = frappe.get_meta(doctype).get_field(fieldname)
	return df.fieldtype if df else None


def _validate_column(doctype, fieldname):
	if not IDENTIFIER.match(fieldname or ""):
		frappe.throw(frappe._("Invalid field name {0}").format(fieldname), frappe.DataError)


def prepare_condition(doctype, filter_, values: list) -> str:
	ref_doctype, fieldname, operator, value = filter_
	_validate_column(ref_doctype, fieldname)
	if operator not in OPERATORS:
		frappe.throw(frappe._("Operator {0} is not supported").format(operator), frappe.DataError)
	column = f"`tab{ref_doctype}`.`{fieldname}`"
	fieldtype = _fieldtype(ref_doctype, fieldname)
	numeric = fieldtype in numeric_fieldtypes
	fallback = "0" if numeric else "''"
	can_be_null = fieldname not in ("name", "modified", "creation") and not numeric

	if operator == "is":
		if value == "set":
			return f"{column} != ''" if not numeric else f"{column} is not null"
		return f"ifnull({column}, {fallback}) = {fallback}"

	if operator in ("in", "not in"):
		items = value.split(",") if isinstance(value, str) else list(value or [])
		if operator == "in":
			can_be_null = can_be_null and (not items or any(v is None or v == "" for v in items))
		items = [("" if v is None else v) for v in items] or [""]
		values.extend(items)
		placeholders = ", ".join(["%s"] * len(items))
		target = f"ifnull({column}, {fallback})" if can_be_null else column
		return f"{target} {operator} ({placeholders})"

	if operator == "between":
		start, end = (list(value) + [None, None])[:2]
		if fieldtype == "Datetime":
			start = frappe.utils.get_datetime(start or "0001-01-01")
			end = frappe.utils.get_datetime(end or "9999-12-31")
			if (
				isinstance(value[1], str)
				and len(value[1]) <= 10
				or isinstance(value[1], datetime.date)
				and not isinstance(value[1], datetime.datetime)
			):
				end = end.replace(hour=23, minute=59, second=59, microsecond=999999)
		values.extend([start, end])
		return f"{column} between %s and %s"

	if value is None and operator == "=":
		return f"ifnull({column}, {fallback}) = {fallback}"
	if value is None:
		value = 0 if numeric else ""
	if numeric and operator not in ("like", "not like"):
		value = frappe.utils.flt(value)
	elif fieldtype == "Date" and value not in ("",):
		value = frappe.utils.getdate(value)
	elif fieldtype == "Datetime" and value not in ("",):
		value = frappe.utils.get_datetime(value)
	values.append(value)
	if operator in (">", ">=") and fieldtype in ("Date", "Datetime"):
		can_be_null = False
	if not can_be_null or (value and operator in ("=", "like")):
		return f"{column} {operator} %s"
	return f"ifnull({column}, {fallback}) {operator} %s"


def build_where(doctype, filters, or_filters=None) -> tuple[str, list]:
	values: list = []
	conditions = [prepare_condition(doctype, f, values) for f in normalize_filters(doctype, filters)]
	if or_filters:
		ors = [prepare_condition(doctype, f, values) for f in normalize_filters(doctype, or_filters)]
		conditions.append("(" + " or ".join(ors) + ")")
	return (" where " + " and ".join(conditions) if conditions else ""), values


def _prepare_fields(doctype, fields) -> list[str]:
	if not fields:
		return [f"`tab{doctype}`.`name`"]
	if isinstance(fields, str):
		fields = [f.strip() for f in fields.split(",")] if "(" not in fields else [fields]
	prepared = []
	for field in fields:
		field = field.strip()
		if field == "*":
			prepared.append(f"`tab{doctype}`.*")
			continue
		if not FIELD_EXPRESSION.match(field):
			frappe.throw(frappe._("Invalid field {0}").format(field), frappe.DataError)
		if IDENTIFIER.match(field):
			prepared.append(f"`tab{doctype}`.`{field}`")
		else:
			prepared.append(field)
	return prepared


def _prepare_order_by(doctype, order_by):
	if order_by is None or order_by == "":
		return ""
	if order_by == "KEEP_DEFAULT_ORDERING":
		meta = frappe.get_meta(doctype)
		if meta.issingle:
			return ""
		sort_field = meta.get("sort_field") or "modified"
		sort_order = (meta.get("sort_field") and meta.get("sort_order")) or "desc"
		return f" order by `tab{doctype}`.`{sort_field}` {sort_order}"
	for part in order_by.split(","):
		if not re.match(
			r"^\s*(`?tab[\w ]+`?\.)?`?\w+`?(\s+(asc|desc))?\s*$", part, re.IGNORECASE
		) and not re.match(
			r"^\s*(count|sum|avg|min|max)\([\w`*. ]+\)(\s+(asc|desc))?\s*$", part, re.IGNORECASE
		):
			frappe.throw(frappe._("Invalid order_by {0}").format(order_by), frappe.DataError)
	return f" order by {order_by}"


def execute(
	doctype,
	fields=None,
	filters=None,
	or_filters=None,
	order_by="KEEP_DEFAULT_ORDERING",
	group_by=None,
	limit_start=0,
	limit_page_length=None,
	limit=None,
	start=None,
	page_length=None,
	as_list=False,
	pluck=None,
	distinct=False,
	ignore_permissions=False,
	user=None,
	for_update=False,
	skip_locked=False,
	wait=True,
	update=None,
	debug=False,
	run=True,
	with_comment_count=False,
	parent_doctype=None,
	strict=True,
	**kwargs,
):
	if isinstance(fields, str) and fields.startswith("["):
		fields = frappe.parse_json(fields)
	if isinstance(filters, str) and filters.startswith(("{", "[")):
		filters = frappe.parse_json(filters)
	if pluck:
		fields = [pluck]
	if start is not None:
		limit_start = start
	if page_length is not None:
		limit_page_length = page_length
	if limit is not None:
		limit_page_length = limit

	meta = frappe.get_meta(doctype)
	if meta.issingle:
		values = frappe.db.get_singles_dict(doctype)
		values.name = doctype
		return [values]

	where, values = build_where(doctype, filters, or_filters)
	if not ignore_permissions:
		where, values = add_permission_conditions(doctype, where, values, user or frappe.session.user)

	select = ", ".join(_prepare_fields(doctype, fields))
	query = f"select {'distinct ' if distinct else ''}{select} from `tab{doctype}`{where}"
	if group_by:
		if not re.match(r"^[\w`. ,]+$", group_by):
			frappe.throw(frappe._("Invalid group_by {0}").format(group_by), frappe.DataError)
		query += f" group by {group_by}"
	query += _prepare_order_by(
		doctype, order_by if not group_by or order_by != "KEEP_DEFAULT_ORDERING" else None
	)
	if frappe.utils.cint(limit_page_length):
		query += f" limit {frappe.utils.cint(limit_page_length)} offset {frappe.utils.cint(limit_start)}"
	if for_update:
		query += " for update"
		if skip_locked:
			query += " skip locked"
		elif not wait:
			query += " nowait"
	if not run:
		return frappe.db.mogrify(query, tuple(values))

	result = frappe.db.sql(query, tuple(values), as_dict=not as_list, update=update, debug=debug)
	if pluck:
		return [r[pluck] if isinstance(r, dict) else r[0] for r in result]
	return result


def add_permission_conditions(doctype, where, values, user):
	"""The read filter `get_list` adds, as v15's `DatabaseQuery.build_match_conditions`: role read,
	the owner constraint of `if_owner` rows, User Permissions on links, and the DocType's
	`permission_query_conditions` hooks."""
	from frappe.permissions import get_role_permissions, get_user_permission_conditions

	meta = frappe.get_meta(doctype)
	conditions, extra = [], []
	if user != "Administrator":
		role_permissions = get_role_permissions(meta, user=user)
		if not meta.istable and not (role_permissions.get("select") or role_permissions.get("read")):
			raise frappe.PermissionError(frappe._("No permission to read {0}").format(frappe._(doctype)))
		if requires_owner_constraint(role_permissions):
			conditions.append(f"`tab{doctype}`.`owner` = %s")
			extra.append(user)
		else:
			user_conditions, user_values = get_user_permission_conditions(doctype, user)
			if user_conditions:
				conditions.append("(" + " and ".join(user_conditions) + ")")
				extra += user_values
	hook_conditions = get_permission_query_conditions(doctype, user)
	values = list(values) + extra
	for condition in hook_conditions:
		# hooks return SQL with their values inlined: a literal % must not meet the paramstyle
		conditions.append("(" + (condition.replace("%", "%%") if values else condition) + ")")
	if conditions:
		where = (where + " and " if where else " where ") + " and ".join(conditions)
	return where, values


def requires_owner_constraint(role_permissions):
	"""True if "select" or "read" isn't available without being the creator (v15)."""
	if not role_permissions.get("has_if_owner_enabled"):
		return False
	if_owner_perms = role_permissions.get("if_owner")
	if not if_owner_perms:
		return False
	for perm_type in ("select", "read"):
		if role_permissions.get(perm_type) and perm_type not in if_owner_perms:
			return False
	return True


def get_permission_query_conditions(doctype, user) -> list[str]:
	"""The conditions of the `permission_query_conditions` hooks for the DocType (and "*")."""
	hooks = frappe.get_hooks("permission_query_conditions", {})
	conditions = []
	for method in hooks.get(doctype, []) + hooks.get("*", []):
		if condition := frappe.call(frappe.get_attr(method), user, doctype=doctype):
			conditions.append(condition)
	return conditions
