"""DocType metadata: the DocType JSON files of the installed apps plus the site's Custom Fields.

Frappe keeps meta in `tabDocType`/`tabDocField`; the testbed reads the same JSON that `migrate`
would import, so a DocType behaves the same without the meta tables.
"""

import json
import os
from functools import cached_property

import frappe
from frappe.model import child_table_fields, default_fields, no_value_fields, optional_fields, table_fields

_json_index: dict = {}
_meta_cache: dict = {}


def doctype_json_index() -> dict:
	"""{doctype: (app, module, path)} for every DocType JSON of the installed apps."""
	apps = tuple(frappe.get_installed_apps())
	if apps not in _json_index:
		index = {}
		for app in apps:
			for module in frappe.get_module_list(app):
				folder = frappe.get_app_path(app, frappe.scrub(module), "doctype")
				if not os.path.isdir(folder):
					continue
				for entry in sorted(os.listdir(folder)):
					path = os.path.join(folder, entry, entry + ".json")
					if os.path.exists(path):
						with open(path) as f:
							name = json.load(f)["name"]
						index[name] = (app, module, path)
		_json_index[apps] = index
	return _json_index[apps]


def clear_meta_cache(doctype=None):
	if doctype:
		for key in [k for k in _meta_cache if k[1] == doctype]:
			del _meta_cache[key]
	else:
		_meta_cache.clear()


def get_meta(doctype, cached=True):
	key = (getattr(frappe.local, "site", None), doctype)
	if not cached or key not in _meta_cache:
		_meta_cache[key] = Meta(doctype)
	return _meta_cache[key]


def is_single(doctype):
	try:
		return bool(get_meta(doctype).issingle)
	except frappe.DoesNotExistError:
		return False


class Meta(frappe._dict):
	def __init__(self, doctype):
		super().__init__()
		index = doctype_json_index()
		if doctype not in index:
			raise frappe.DoesNotExistError(frappe._("DocType {0} not found").format(doctype))
		app, module, path = index[doctype]
		with open(path) as f:
			self.update(json.load(f))
		self.app = app
		self.module = self.get("module") or module
		self.fields = [frappe._dict(df, parent=doctype) for df in self.get("fields", [])]
		self.permissions = [frappe._dict(p) for p in self.get("permissions", [])]
		self._add_custom_fields()

	def _add_custom_fields(self):
		if self.name in ("Custom Field", "DocType", "Singles") or not getattr(frappe.local, "db", None):
			return
		if "tabCustom Field" not in frappe.db.get_tables():
			return
		custom_fields = frappe.db.sql(
			"select * from `tabCustom Field` where dt=%s order by idx", self.name, as_dict=True
		)
		for cf in custom_fields:
			df = frappe._dict(cf, parent=self.name, is_custom_field=1)
			position = len(self.fields)
			if cf.insert_after:
				for i, existing in enumerate(self.fields):
					if existing.fieldname == cf.insert_after:
						position = i + 1
						break
			self.fields.insert(position, df)

	@cached_property
	def _fields_by_name(self):
		return {df.fieldname: df for df in self.fields}

	def get_field(self, fieldname):
		return self._fields_by_name.get(fieldname)

	def has_field(self, fieldname):
		return fieldname in self._fields_by_name

	def get_table_fields(self):
		return [df for df in self.fields if df.fieldtype in table_fields]

	def get_link_fields(self):
		return [df for df in self.fields if df.fieldtype == "Link"]

	def get_data_fields(self):
		return [df for df in self.fields if df.fieldtype not in no_value_fields]

	def get_valid_columns(self):
		columns = list(default_fields[1:])
		if self.istable:
			columns += list(child_table_fields)
		columns += [df.fieldname for df in self.get_data_fields()]
		return columns

	def get_fieldnames_with_value(self):
		return [df.fieldname for df in self.get_data_fields()]

	def get_fields_of_type(self, fieldtype):
		return [df for df in self.fields if df.fieldtype == fieldtype]

	def get_phone_fields(self):
		return self.get_fields_of_type("Phone")

	def get_set_only_once_fields(self):
		"""Fields with `set_only_once`, and the standard ones (creation, owner), as v15."""
		fields = [df for df in self.fields if df.get("set_only_once")]
		fieldnames = [df.fieldname for df in fields]
		for df in (
			frappe._dict(fieldname="creation", fieldtype="Datetime", label="Created On"),
			frappe._dict(fieldname="owner", fieldtype="Data", label="Created By"),
		):
			if df.fieldname not in fieldnames:
				fields.append(df)
		return fields

	def get_high_permlevel_fields(self):
		return [df for df in self.fields if frappe.utils.cint(df.get("permlevel")) > 0]

	def get_password_fields(self):
		return [df.fieldname for df in self.fields if df.fieldtype == "Password"]

	def get_title_field(self):
		return self.get("title_field") or "name"

	def get_search_fields(self):
		return [f.strip() for f in (self.get("search_fields") or "").split(",") if f.strip()] or ["name"]

	@property
	def is_virtual(self):
		return bool(self.get("is_virtual"))


def get_column_type(df):
	from frappe.database import TYPE_MAP

	return TYPE_MAP.get(df.fieldtype)


def cast_values(doctype, values: dict) -> dict:
	"""Type the text values of a Single (tabSingles keeps everything as text), like Frappe's cast."""
	from frappe.utils import cast

	meta = get_meta(doctype)
	result = frappe._dict()
	for fieldname, value in values.items():
		df = meta.get_field(fieldname)
		result[fieldname] = cast(df.fieldtype, value) if df else value
	return result


def get_table_definition(meta):
	"""CREATE TABLE for a DocType, with Frappe v15's standard columns, types and indexes."""
	from frappe.utils import cint, cstr, flt

	definitions = []
	for df in meta.fields:
		column_type = get_column_type(df)
		if not column_type or df.fieldname in default_fields:
			continue
		definitions.append(f"`{df.fieldname}` {column_definition(df, column_type, cint, flt, cstr)}")
		if df.get("search_index") and not df.get("unique") and column_type not in ("text", "longtext"):
			definitions.append(f"index `{df.fieldname}`(`{df.fieldname}`)")
	if meta.istable:
		definitions += [
			"parent varchar(140)",
			"parentfield varchar(140)",
			"parenttype varchar(140)",
			"index parent(parent)",
		]
	else:
		definitions += [f"`{f}` text" for f in optional_fields[:4]]
		definitions.append("index modified(modified)")
	engine = meta.get("engine") or "InnoDB"
	name_column = (
		"name bigint primary key"
		if meta.get("autoname") == "autoincrement"
		else "name varchar(140) primary key"
	)
	columns = ",\n".join(definitions)
	return f"""create table `tab{meta.name}` (
		{name_column},
		creation datetime(6),
		modified datetime(6),
		modified_by varchar(140),
		owner varchar(140),
		docstatus int(1) not null default '0',
		idx int(8) not null default '0',
		{columns})
		ENGINE={engine}
		ROW_FORMAT=DYNAMIC
		CHARACTER SET=utf8mb4
		COLLATE=utf8mb4_unicode_ci"""


def column_definition(df, column_type, cint, flt, cstr):
	definition = column_type
	if df.fieldtype in ("Check", "Int"):
		definition += f" not null default {cint(df.get('default'))}"
	elif df.fieldtype in ("Currency", "Float", "Percent"):
		definition += f" not null default {flt(df.get('default'))}"
	elif (
		df.get("default")
		and not cstr(df.default).startswith(":")
		and str(df.default).lower() not in ("today", "now", "__user")
		and column_type not in ("text", "longtext")
	):
		definition += f" default {frappe.db.escape(df.default)}"
	if df.get("unique") and column_type not in ("text", "longtext"):
		definition += " unique"
	return definition
