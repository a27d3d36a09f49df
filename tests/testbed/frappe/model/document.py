"""`Document`: load, insert, save, submit, cancel, delete, db_set, child tables, controller hooks (v15)."""

import datetime
import json

import frappe
from frappe import _
from frappe.model import child_table_fields, default_fields, display_fieldtypes, no_value_fields, table_fields
from frappe.model.naming import set_new_name, validate_name

DOCSTATUS_DRAFT, DOCSTATUS_SUBMITTED, DOCSTATUS_CANCELLED = 0, 1, 2


def get_controller(doctype):
	"""The class `<DocType without spaces>` from `<app>.<module>.doctype.<scrub>.<scrub>`, else Document."""
	meta = frappe.get_meta(doctype)
	module_path = (
		f"{meta.app}.{frappe.scrub(meta.module)}.doctype.{frappe.scrub(doctype)}.{frappe.scrub(doctype)}"
	)
	try:
		module = frappe.get_module(module_path)
	except ModuleNotFoundError as e:
		if e.name and module_path.startswith(e.name):
			return Document
		raise
	class_name = doctype.replace(" ", "").replace("-", "")
	return getattr(module, class_name, Document)


def get_doc(*args, **kwargs):
	if args and isinstance(args[0], Document):
		return args[0]
	if args and isinstance(args[0], dict):
		kwargs = args[0]
		args = ()
	if kwargs and not args:
		if "doctype" not in kwargs:
			raise ValueError('"doctype" is a required key')
		return get_controller(kwargs["doctype"])(kwargs)
	doctype = args[0]
	name = args[1] if len(args) > 1 else (doctype if frappe.get_meta(doctype).issingle else None)
	if name is None:
		raise ValueError("name is required")
	return get_controller(doctype)(doctype, name, for_update=kwargs.get("for_update"))


class Document:
	"""Fields live in `__dict__` as in Frappe's BaseDocument (so a field may be called `items`)."""

	_internal = ("flags", "_doc_before_save")

	def __init__(self, *args, **kwargs):
		self.flags = frappe._dict()
		self._doc_before_save = None
		if args and isinstance(args[0], str):
			self.doctype = args[0]
			self.name = args[1] if len(args) > 1 else args[0]
			self.load_from_db(for_update=kwargs.get("for_update"))
			return
		data = dict(args[0]) if args and isinstance(args[0], dict) else dict(kwargs)
		self.doctype = data.get("doctype")
		self._set_defaults()
		self.update(data)

	def __getattr__(self, key):
		# only reached for attributes that are not set: unset fields read as None, like doc.get()
		if key.startswith("_"):
			raise AttributeError(key)
		if key in (
			"name",
			"owner",
			"creation",
			"modified",
			"modified_by",
			"parent",
			"parentfield",
			"parenttype",
			"idx",
			"docstatus",
			"amended_from",
		) or (self.__dict__.get("doctype") and frappe.get_meta(self.__dict__["doctype"]).has_field(key)):
			return None
		raise AttributeError(f"{type(self).__name__} object has no attribute {key!r}")

	def __repr__(self):
		return f"<{self.doctype}: {self.name}>"

	def get(self, key, default=None):
		if isinstance(key, dict):
			return [row for row in self.get_children() if all(row.get(k) == v for k, v in key.items())]
		return self.__dict__.get(key, default)

	def __getitem__(self, key):
		return self.__dict__[key]

	def __setitem__(self, key, value):
		self.__dict__[key] = value

	def __contains__(self, key):
		return key in self.__dict__

	def setdefault(self, key, default=None):
		return self.__dict__.setdefault(key, default)

	def pop(self, key, default=None):
		return self.__dict__.pop(key, default)

	@property
	def meta(self):
		return frappe.get_meta(self.doctype)

	def _set_defaults(self):
		for df in self.meta.fields:
			if df.fieldtype in table_fields:
				self[df.fieldname] = []
			elif df.get("default") is not None and self.get(df.fieldname) is None:
				self[df.fieldname] = _default_value(df)
			elif _first_select_option(df) and self.get(df.fieldname) is None:
				# v15 create_new.get_static_default_value: a Select defaults to its first option
				self[df.fieldname] = _first_select_option(df)
		self.docstatus = 0

	def update(self, data=None, **kwargs):
		data = dict(data or {}, **kwargs)
		for key, value in data.items():
			df = self.meta.get_field(key) if key != "doctype" else None
			if df and df.fieldtype in table_fields:
				self[key] = []
				for row in value or []:
					self.append(key, row)
			else:
				self[key] = value
		return self

	def set(self, key, value, as_value=False):
		if isinstance(value, list) and not as_value:
			self.update({key: value})
		else:
			self[key] = value

	def append(self, key, value=None):
		value = value or {}
		df = self.meta.get_field(key)
		if not df or df.fieldtype not in table_fields:
			raise ValueError(f"{key} is not a table field of {self.doctype}")
		if isinstance(value, Document):
			child = value
		else:
			child = get_controller(df.options)({"doctype": df.options, **dict(value)})
		child.parent = self.name
		child.parentfield = key
		child.parenttype = self.doctype
		child.idx = len(self.get(key) or []) + 1
		self.setdefault(key, [])
		if self[key] is None:
			self[key] = []
		self[key].append(child)
		return child

	def get_children(self):
		for df in self.meta.get_table_fields():
			yield from self.get(df.fieldname) or []

	def is_new(self):
		return self.get("__islocal") or not self.get("creation") or self.flags.get("is_new")

	def is_child_table(self):
		return bool(self.meta.istable)

	def get_title(self):
		return self.get(self.meta.get_title_field()) or self.name

	# loading
	def load_from_db(self, for_update=False):
		meta = self.meta
		if meta.issingle:
			values = frappe.db.get_singles_dict(self.doctype, for_update=for_update, cast=True)
			self._set_defaults()
			for key, value in values.items():
				if key not in default_fields or key in ("modified", "creation"):
					self[key] = value
			self.name = self.doctype
		else:
			if isinstance(self.name, dict):
				# get_doc(doctype, {filters}) as in v15: the first matching name
				self.name = frappe.db.get_value(self.doctype, self.name, "name") or self.name
				if isinstance(self.name, dict):
					frappe.throw(_("{0} not found").format(_(self.doctype)), frappe.DoesNotExistError)
			query = f"select * from `tab{self.doctype}` where name=%s" + (" for update" if for_update else "")
			row = frappe.db.sql(query, self.name, as_dict=True)
			if not row:
				frappe.throw(
					_("{0} {1} not found").format(_(self.doctype), self.name), frappe.DoesNotExistError
				)
			self.update_from_row(row[0])
			for df in meta.get_table_fields():
				children = frappe.db.sql(
					f"select * from `tab{df.options}` where parent=%s and parenttype=%s and parentfield=%s order by idx",
					(self.name, self.doctype, df.fieldname),
					as_dict=True,
				)
				self[df.fieldname] = []
				for child in children:
					child_doc = get_controller(df.options)({"doctype": df.options})
					child_doc.update_from_row(child)
					self[df.fieldname].append(child_doc)
		self.pop("__islocal", None)

	def update_from_row(self, row):
		for key, value in row.items():
			self[key] = value

	def reload(self):
		self.load_from_db()
		return self

	# saving
	def insert(
		self,
		ignore_permissions=None,
		ignore_links=None,
		ignore_if_duplicate=False,
		ignore_mandatory=None,
		set_name=None,
		set_child_names=True,
	):
		if self.flags.in_print:
			return self
		self.flags.is_new = True
		self.flags.email_alerts_executed = []
		if ignore_permissions is not None:
			self.flags.ignore_permissions = ignore_permissions
		if ignore_links is not None:
			self.flags.ignore_links = ignore_links
		if ignore_mandatory is not None:
			self.flags.ignore_mandatory = ignore_mandatory

		self.set("__islocal", True)
		self._set_defaults_for_missing()
		# as v15's set_user_and_timestamp: before the record is named, so (doctype, None) for a
		# new one, which run_post_save_methods' removal of (doctype, name) then leaves behind
		frappe.flags.currently_saving.append((self.doctype, self.name))
		self.check_permission("create")
		self.run_method("before_insert")
		self.set_new_name(set_name=set_name, set_child_names=set_child_names)
		self.set_parent_in_children()
		self._set_standard_fields(new=True)
		self.validate_higher_perm_levels()
		self.run_before_save_methods()
		self._validate()

		if self.meta.issingle:
			self._save_single()
		else:
			try:
				self.db_insert()
			except frappe.DuplicateEntryError:
				if not ignore_if_duplicate:
					raise
				return self
			for child in self.get_children():
				child.db_insert()
		self._save_passwords()

		self.run_method("after_insert")
		self.flags.in_insert = True
		self.run_post_save_methods()
		self.flags.in_insert = False
		self.pop("__islocal", None)
		self.flags.is_new = False
		return self

	def save(self, *args, **kwargs):
		return self._save(*args, **kwargs)

	def _save(self, ignore_permissions=None, ignore_version=None):
		if (
			self.get("__islocal")
			or not self.get("name")
			or (not self.meta.issingle and not self.get("creation"))
		):
			return self.insert(ignore_permissions=ignore_permissions)
		if ignore_permissions is not None:
			self.flags.ignore_permissions = ignore_permissions
		self.check_permission("write", "save")
		frappe.flags.currently_saving.append((self.doctype, self.name))
		self._doc_before_save = self._load_before_save()
		self.check_if_latest()
		self.set_parent_in_children()
		self._set_standard_fields(new=False)
		self.validate_higher_perm_levels()
		self.run_before_save_methods()
		self._validate()

		if self.meta.issingle:
			self._save_single()
		else:
			self.db_update()
			self.update_children()
		self._save_passwords()
		self.run_post_save_methods()
		return self

	def _load_before_save(self):
		if self.meta.issingle:
			return None
		try:
			return frappe.get_doc(self.doctype, self.name)
		except frappe.DoesNotExistError:
			return None

	def get_doc_before_save(self):
		return self._doc_before_save

	def has_value_changed(self, fieldname):
		previous = self.get_doc_before_save()
		return previous.get(fieldname) != self.get(fieldname) if previous else True

	def check_if_latest(self):
		if self.meta.issingle or self.flags.ignore_version_check:
			return
		row = frappe.db.sql(
			f"select modified, docstatus from `tab{self.doctype}` where name=%s for update",
			self.name,
			as_dict=True,
		)
		if not row:
			frappe.throw(_("{0} {1} not found").format(_(self.doctype), self.name), frappe.DoesNotExistError)
		row = row[0]
		if self.get("modified") and str(frappe.utils.get_datetime(row.modified)) != str(
			frappe.utils.get_datetime(self.modified)
		):
			frappe.throw(
				_("Error: Document has been modified after you have opened it"), frappe.TimestampMismatchError
			)
		self._validate_docstatus_transition(row.docstatus)

	def _validate_docstatus_transition(self, previous):
		current = frappe.utils.cint(self.docstatus)
		allowed = {0: (0, 1), 1: (1, 2), 2: ()}
		if current not in allowed.get(previous, ()):
			frappe.throw(
				_("Cannot change docstatus from {0} to {1}").format(previous, current),
				frappe.DocstatusTransitionError,
			)
		if previous == 1 and current == 1 and not self.flags.ignore_validate_update_after_submit:
			self._validate_update_after_submit()

	def _validate_update_after_submit(self):
		before = self.get_doc_before_save()
		for df in self.meta.get_data_fields():
			if df.fieldname in default_fields or df.get("allow_on_submit"):
				continue
			if before and str(before.get(df.fieldname) or "") != str(self.get(df.fieldname) or ""):
				frappe.throw(
					_("Not allowed to change {0} after submission").format(df.get("label") or df.fieldname),
					frappe.UpdateAfterSubmitError,
				)

	def set_new_name(self, force=False, set_name=None, set_child_names=True):
		if self.flags.name_set and not force:
			return
		if set_name:
			self.name = validate_name(self.doctype, set_name)
		else:
			set_new_name(self)
		if set_child_names:
			for child in self.get_children():
				if not child.name or not frappe.flags.in_import:
					child.name = frappe.model.naming.make_autoname("hash")
		self.flags.name_set = True

	def set_parent_in_children(self):
		for df in self.meta.get_table_fields():
			for idx, child in enumerate(self.get(df.fieldname) or [], start=1):
				child.parent = self.name
				child.parenttype = self.doctype
				child.parentfield = df.fieldname
				child.idx = idx
				if not child.name:
					child.name = frappe.model.naming.make_autoname("hash")

	def _set_standard_fields(self, new):
		now = frappe.utils.now_datetime()
		user = frappe.session.user if getattr(frappe.local, "session", None) else "Administrator"
		if new:
			self.creation = self.creation or now
			self.owner = self.owner or user
		if not (new and self.get("modified")):
			self.modified = now
		self.modified_by = user
		if self.docstatus is None:
			self.docstatus = 0
		for child in self.get_children():
			child.creation = child.creation or self.creation
			child.modified = self.modified
			child.owner = child.owner or self.owner
			child.modified_by = user
			child.docstatus = self.docstatus

	def _set_defaults_for_missing(self):
		for df in self.meta.fields:
			if df.fieldtype in table_fields:
				if self.get(df.fieldname) is None:
					self[df.fieldname] = []
			elif self.get(df.fieldname) is None and df.get("default") is not None:
				self[df.fieldname] = _default_value(df)

	def run_before_save_methods(self):
		if self.flags.ignore_validate:
			return
		if self.docstatus == 0:
			self.run_method("validate")
			self.run_method("before_save")
		elif self.docstatus == 1:
			if self._action_is("submit"):
				self.run_method("validate")
				self.run_method("before_submit")
			else:
				self.run_method("before_update_after_submit")
		elif self.docstatus == 2:
			self.run_method("before_cancel")

	def run_post_save_methods(self):
		if self.docstatus == 0:
			self.run_method("on_update")
		elif self.docstatus == 1:
			if self._action_is("submit"):
				self.run_method("on_update")
				self.run_method("on_submit")
			else:
				self.run_method("on_update_after_submit")
		elif self.docstatus == 2:
			self.run_method("on_cancel")
		self.clear_cache()
		if (self.doctype, self.name) in frappe.flags.currently_saving:
			frappe.flags.currently_saving.remove((self.doctype, self.name))
		if self.flags.get("notify_update", True):
			self.notify_update()
		self.run_method("on_change")
		self.flags.action = None

	def _action_is(self, action):
		if self.flags.action:
			return self.flags.action == action
		before = self.get_doc_before_save()
		return (before.docstatus if before else 0) == 0

	def submit(self):
		self.docstatus = 1
		self.flags.action = "submit"
		return self.save()

	def cancel(self):
		self.docstatus = 2
		self.flags.action = "cancel"
		return self.save()

	def delete(self, ignore_permissions=False, force=False, *, delete_permanently=False):
		frappe.delete_doc(
			self.doctype,
			self.name,
			ignore_permissions=ignore_permissions,
			flags=self.flags,
			force=force,
			delete_permanently=delete_permanently,
		)

	def run_method(self, method, *args, **kwargs):
		result = None
		fn = getattr(self, method, None)
		if callable(fn):
			result = fn(*args, **kwargs)
		for handler in frappe.get_doc_hooks().get(self.doctype, {}).get(
			method, []
		) + frappe.get_doc_hooks().get("*", {}).get(method, []):
			frappe.get_attr(handler)(self, method, *args, **kwargs)
		return result

	# validation
	def _validate(self):
		self._sanitize_values()
		if not self.flags.ignore_mandatory:
			self._validate_mandatory()
		self._validate_data_fields()
		self._validate_selects()
		self._validate_non_negative()
		self._validate_length()
		if not self.flags.ignore_links and not frappe.flags.in_migrate:
			self._validate_links()
		self._sanitize_content()
		for child in self.get_children():
			child._sanitize_values()
			if not self.flags.ignore_mandatory:
				child._validate_mandatory()
			child._validate_data_fields()
			child._validate_selects()
			child._validate_non_negative()
			child._validate_length()
			if not self.flags.ignore_links:
				child._validate_links()
			child._sanitize_content()
		if not self.is_new():
			self.validate_set_only_once()

	def _validate_data_fields(self):
		"""v15 BaseDocument._validate_data_fields: Phone fields, and Data fields with options
		Email / Name / Phone / URL."""
		for phone_field in self.meta.get_phone_fields():
			frappe.utils.validate_phone_number_with_country_code(
				self.get(phone_field.fieldname), phone_field.fieldname
			)
		for data_field in self.meta.get_fields_of_type("Data"):
			data = self.get(data_field.fieldname)
			data_field_options = data_field.get("options")
			old_fieldtype = data_field.get("oldfieldtype")
			if old_fieldtype and old_fieldtype != "Data":
				continue
			if data_field_options == "Email":
				if (self.owner in frappe.STANDARD_USERS) and (data in frappe.STANDARD_USERS):
					continue
				for email_address in frappe.utils.split_emails(data):
					frappe.utils.validate_email_address(email_address, throw=True)
			if data_field_options == "Name":
				frappe.utils.validate_name(data, throw=True)
			if data_field_options == "Phone":
				frappe.utils.validate_phone_number(data, throw=True)
			if data_field_options == "URL":
				if not data:
					continue
				frappe.utils.validate_url(data, throw=True)

	def _validate_non_negative(self):
		def get_msg(df):
			if self.get("parentfield"):
				return "{} {} #{}: {} {}".format(
					frappe.bold(_(self.doctype)),
					_("Row"),
					self.idx,
					_("Value cannot be negative for"),
					frappe.bold(_(df.label)),
				)
			return _("Value cannot be negative for {0}: {1}").format(_(df.parent), frappe.bold(_(df.label)))

		for df in self.meta.fields:
			if not df.get("non_negative") or df.fieldtype not in ("Int", "Float", "Currency"):
				continue
			if frappe.utils.flt(self.get(df.fieldname)) < 0:
				frappe.throw(get_msg(df), frappe.NonNegativeError, title=_("Negative Value"))

	def _sanitize_content(self):
		"""v15: sanitize HTML in field values (XSS); not for 'Ignore XSS Filter', Email, Attach, Code
		fields, nor in cancelled / submitted (unless allow_on_submit) documents."""
		from bs4 import BeautifulSoup

		from frappe.utils.html_utils import sanitize_html

		if frappe.flags.in_install:
			return
		docstatus = frappe.utils.cint(self.docstatus)
		for fieldname, value in self.get_valid_dict().items():
			if not value or not isinstance(value, str):
				continue
			value = frappe.as_unicode(value)
			if "<" not in value and ">" not in value:
				continue
			elif "<!-- markdown -->" in value and not bool(BeautifulSoup(value, "html.parser").find()):
				continue
			df = self.meta.get_field(fieldname)
			if df and (
				df.get("ignore_xss_filter")
				or (df.get("fieldtype") in ("Data", "Small Text", "Text") and df.get("options") == "Email")
				or df.get("fieldtype") in ("Attach", "Attach Image", "Barcode", "Code")
				or docstatus == 2
				or (docstatus == 1 and not df.get("allow_on_submit"))
			):
				continue
			self.set(fieldname, sanitize_html(value, linkify=df and df.fieldtype == "Text Editor"))

	def validate_set_only_once(self):
		"""v15: fields with `set_only_once` (and creation / owner) cannot change once saved."""
		before = self._doc_before_save
		if not before:
			return
		for field in self.meta.get_set_only_once_fields():
			value = self.get(field.fieldname)
			original_value = before.get(field.fieldname)
			if field.fieldtype in table_fields:
				fail = [_child_values(d) for d in value or []] != [
					_child_values(d) for d in original_value or []
				]
			elif field.fieldtype in ("Date", "Datetime", "Time"):
				fail = str(value) != str(original_value)
			else:
				fail = value != original_value
			if fail:
				frappe.throw(
					_("Value cannot be changed for {0}").format(
						frappe.bold(_(field.get("label") or field.fieldname))
					),
					exc=frappe.CannotChangeConstantError,
				)

	def get_permissions(self):
		if self.meta.istable and self.get("parenttype"):
			return frappe.get_meta(self.parenttype).permissions
		return self.meta.permissions

	def get_permlevel_access(self, permission_type="write"):
		allowed_permlevels = []
		roles = frappe.get_roles()
		for perm in self.get_permissions():
			permlevel = frappe.utils.cint(perm.get("permlevel"))
			if perm.role in roles and perm.get(permission_type) and permlevel not in allowed_permlevels:
				allowed_permlevels.append(permlevel)
		return allowed_permlevels

	def validate_higher_perm_levels(self):
		"""v15: values of fields at a permlevel the user may not write are reset (to the default on
		insert, to the saved value on save)."""
		if self.flags.ignore_permissions or frappe.flags.in_install:
			return
		if frappe.session.user == "Administrator":
			return
		has_access_to = self.get_permlevel_access()
		high_permlevel_fields = self.meta.get_high_permlevel_fields()
		if high_permlevel_fields:
			self.reset_values_if_no_permlevel_access(has_access_to, high_permlevel_fields)
		if self.is_new():
			return
		for df in self.meta.get_table_fields():
			high_permlevel_fields = frappe.get_meta(df.options).get_high_permlevel_fields()
			if high_permlevel_fields:
				for d in self.get(df.fieldname) or []:
					d.reset_values_if_no_permlevel_access(
						has_access_to, high_permlevel_fields, parent_doc=self
					)

	def reset_values_if_no_permlevel_access(self, has_access_to, high_permlevel_fields, parent_doc=None):
		to_reset = [
			df
			for df in high_permlevel_fields
			if (
				frappe.utils.cint(df.permlevel) not in has_access_to
				and df.fieldtype not in display_fieldtypes
				and df.fieldname not in self.flags.get("ignore_permlevel_for_fields", [])
			)
		]
		if not to_reset:
			return
		if self.is_new() and not parent_doc:
			ref_doc = frappe.new_doc(self.doctype)
		elif parent_doc:
			latest = frappe.get_doc(parent_doc.doctype, parent_doc.name)
			child_docs = [d for d in latest.get(self.parentfield) or [] if d.name == self.name]
			if not child_docs:
				return
			ref_doc = child_docs[0]
		else:
			ref_doc = frappe.get_doc(self.doctype, self.name)
		for df in to_reset:
			self.set(df.fieldname, ref_doc.get(df.fieldname))

	def _sanitize_values(self):
		for df in self.meta.get_data_fields():
			value = self.get(df.fieldname)
			if df.fieldtype in ("Int", "Check"):
				self[df.fieldname] = frappe.utils.cint(value)
			elif df.fieldtype in ("Float", "Currency", "Percent"):
				self[df.fieldname] = frappe.utils.flt(value)
			elif value == "" and df.fieldtype in ("Date", "Datetime", "Time", "Link", "Dynamic Link"):
				self[df.fieldname] = None
			elif df.fieldtype == "Date" and value is not None:
				try:
					self[df.fieldname] = frappe.utils.getdate(value)
				except Exception:
					frappe.throw(
						_("{0}: invalid date {1}").format(df.get("label") or df.fieldname, value),
						frappe.ValidationError,
					)
			elif df.fieldtype == "Datetime" and value is not None:
				try:
					self[df.fieldname] = frappe.utils.get_datetime(value)
				except Exception:
					frappe.throw(
						_("{0}: invalid datetime {1}").format(df.get("label") or df.fieldname, value),
						frappe.ValidationError,
					)

	def _validate_mandatory(self):
		missing = []
		for df in self.meta.get_data_fields():
			if df.get("reqd") and self.get(df.fieldname) in (None, "", []):
				missing.append(df.get("label") or df.fieldname)
		for df in self.meta.get_table_fields():
			if df.get("reqd") and not self.get(df.fieldname):
				missing.append(df.get("label") or df.fieldname)
		if missing:
			prefix = f"{_(self.doctype)} {self.name or ''}".strip()
			frappe.throw(
				_("Error: Value missing for {0}: {1}").format(prefix, ", ".join(_(m) for m in missing)),
				frappe.MandatoryError,
				title=_("Missing Fields"),
			)

	def _validate_selects(self):
		for df in self.meta.get_data_fields():
			if df.fieldtype != "Select" or not df.get("options"):
				continue
			value = self.get(df.fieldname)
			options = [o for o in df.options.split("\n")]
			if value not in (None, "") and value not in options:
				frappe.throw(
					_("{0} cannot be {1}. It should be one of {2}").format(
						_(df.get("label") or df.fieldname), value, ", ".join(o for o in options if o)
					),
					frappe.ValidationError,
				)

	def _validate_length(self):
		for df in self.meta.get_data_fields():
			column_type = frappe.model.meta.get_column_type(df) or ""
			value = self.get(df.fieldname)
			if column_type.startswith("varchar") and isinstance(value, str) and len(value) > 140:
				frappe.throw(
					_("{0}: '{1}' ({3}) will get truncated, as max characters allowed is {2}").format(
						_(self.doctype), _(df.get("label") or df.fieldname), 140, len(value)
					),
					frappe.CharacterLengthExceededError,
				)

	def _validate_links(self):
		invalid = []
		for df in self.meta.get_data_fields():
			value = self.get(df.fieldname)
			if not value:
				continue
			if df.fieldtype == "Link":
				target = df.options
			elif df.fieldtype == "Dynamic Link":
				target = self.get(df.options)
			else:
				continue
			if (
				not target
				or target in ("DocType", "Module Def", "Role")
				and not frappe.db.table_exists(target)
			):
				continue
			try:
				meta = frappe.get_meta(target)
			except frappe.DoesNotExistError:
				continue
			if meta.issingle:
				continue
			if not frappe.db.sql(f"select name from `tab{target}` where name=%s", value):
				invalid.append((df.get("label") or df.fieldname, value, target))
			elif df.fieldtype == "Link":
				self._set_fetch_from_values(df.fieldname, target, value)
		if invalid:
			frappe.throw(
				_("Could not find {0}").format(
					", ".join(f"{_(label)}: {value}" for label, value, _t in invalid)
				),
				frappe.LinkValidationError,
				title=_("Links Validation"),
			)

	def _set_fetch_from_values(self, link_fieldname, target, value):
		"""Fields with `fetch_from: link_field.source_field` copy the linked value (v15)."""
		for df in self.meta.fields:
			fetch_from = df.get("fetch_from") or ""
			if not fetch_from.startswith(link_fieldname + "."):
				continue
			if df.get("fetch_if_empty") and self.get(df.fieldname):
				continue
			source = fetch_from.split(".", 1)[1]
			if frappe.get_meta(target).has_field(source) or source in ("owner", "creation", "modified"):
				self.set(df.fieldname, frappe.db.get_value(target, value, source))

	def check_permission(self, permtype="read", permlevel=None):
		if self.flags.ignore_permissions or frappe.flags.ignore_permissions:
			return
		if self.meta.istable:
			return
		if not frappe.has_permission(
			self.doctype, permtype, self if not self.is_new() or permtype != "create" else None
		):
			frappe.flags.error_message = _("Insufficient Permission for {0}").format(_(self.doctype))
			raise frappe.PermissionError(
				_("No permission to {0} {1} {2}").format(_(permtype), _(self.doctype), self.name or "")
			)

	def has_permission(self, permtype="read", *, debug=False, user=None):
		if self.flags.ignore_permissions:
			return True
		return frappe.has_permission(self.doctype, permtype, self, user=user)

	# database writes
	def get_valid_dict(self, convert_dates_to_str=False, ignore_nulls=False):
		columns = set(self.meta.get_valid_columns())
		result = {}
		for key in columns:
			if key == "doctype":
				continue
			value = self.get(key)
			if isinstance(value, list):
				continue
			if isinstance(value, dict):
				value = json.dumps(value)
			if value is None and key in ("idx", "docstatus"):
				value = 0
			result[key] = value
		result["name"] = self.name
		return result

	def db_insert(self, ignore_if_duplicate=False):
		if not self.name:
			self.name = frappe.model.naming.make_autoname("hash")
		if not self.creation:
			self._set_standard_fields(new=True)
		data = self.get_valid_dict()
		columns = ", ".join(f"`{c}`" for c in data)
		placeholders = ", ".join(["%s"] * len(data))
		try:
			frappe.db.sql(
				f"insert into `tab{self.doctype}` ({columns}) values ({placeholders})", tuple(data.values())
			)
		except frappe.db.IntegrityError as e:
			if frappe.db.is_primary_key_violation(e):
				if ignore_if_duplicate:
					return
				frappe.msgprint(_("{0} {1} already exists").format(_(self.doctype), frappe.bold(self.name)))
				raise frappe.DuplicateEntryError(self.doctype, self.name, e) from e
			if frappe.db.is_unique_key_violation(e):
				fieldname = str(e.args[1]).split("'")[-2] if "'" in str(e.args[1]) else ""
				df = self.meta.get_field(fieldname)
				label = df.get("label") if df else fieldname
				frappe.throw(
					_("{0} must be unique").format(_(label or fieldname)),
					frappe.UniqueValidationError,
				)
			raise
		self.set("__islocal", False)

	def db_update(self):
		if self.get("__islocal") or not self.name:
			return self.db_insert()
		data = self.get_valid_dict()
		name = data.pop("name")
		assignments = ", ".join(f"`{c}`=%s" for c in data)
		try:
			frappe.db.sql(
				f"update `tab{self.doctype}` set {assignments} where name=%s", (*data.values(), name)
			)
		except frappe.db.IntegrityError as e:
			if frappe.db.is_unique_key_violation(e):
				frappe.throw(_("{0} must be unique").format(str(e.args[1])), frappe.UniqueValidationError)
			raise

	def update_children(self):
		for df in self.meta.get_table_fields():
			children = self.get(df.fieldname) or []
			for child in children:
				existing = frappe.db.sql(f"select name from `tab{df.options}` where name=%s", child.name)
				if existing:
					child.db_update()
				else:
					child.db_insert()
			names = [c.name for c in children]
			query = f"delete from `tab{df.options}` where parent=%s and parenttype=%s and parentfield=%s"
			values = [self.name, self.doctype, df.fieldname]
			if names:
				query += f" and name not in ({', '.join(['%s'] * len(names))})"
				values += names
			frappe.db.sql(query, tuple(values))

	def _save_single(self):
		values = {}
		for df in self.meta.get_data_fields():
			value = self.get(df.fieldname)
			if df.fieldtype == "Password" and value and value == "*" * len(value):
				continue
			values[df.fieldname] = "*" * len(value) if df.fieldtype == "Password" and value else value
		frappe.db.sql("delete from `tabSingles` where doctype=%s", self.doctype)
		for field, value in values.items():
			if value is not None:
				if isinstance(value, datetime.datetime | datetime.date):
					value = str(value)
				frappe.db.sql(
					"insert into `tabSingles` (doctype, field, value) values (%s, %s, %s)",
					(self.doctype, field, value),
				)
		for field in ("modified", "creation"):
			if self.get(field):
				frappe.db.sql(
					"insert into `tabSingles` (doctype, field, value) values (%s, %s, %s)",
					(self.doctype, field, str(self.get(field))),
				)

	def _save_passwords(self):
		"""Password values go to `__Auth` encrypted; the document column keeps asterisks (v15)."""
		from frappe.utils.password import set_encrypted_password

		for fieldname in self.meta.get_password_fields():
			value = self.get(fieldname)
			if value and value != "*" * len(value):
				set_encrypted_password(self.doctype, self.name, value, fieldname)
				self[fieldname] = "*" * len(value)
				if not self.meta.issingle:
					frappe.db.sql(
						f"update `tab{self.doctype}` set `{fieldname}`=%s where name=%s",
						(self[fieldname], self.name),
					)
				else:
					frappe.db.set_single_value(
						self.doctype, fieldname, self[fieldname], update_modified=False
					)

	def get_password(self, fieldname="password", raise_exception=True):
		from frappe.utils.password import get_decrypted_password

		value = self.get(fieldname)
		if value and value != "*" * len(value):
			return value
		return get_decrypted_password(self.doctype, self.name, fieldname, raise_exception=raise_exception)

	def db_set(self, fieldname, value=None, update_modified=True, notify=False, commit=False):
		values = fieldname if isinstance(fieldname, dict) else {fieldname: value}
		self.update(values)
		if self.meta.issingle:
			frappe.db.set_single_value(self.doctype, values, update_modified=update_modified)
		else:
			if update_modified:
				self.modified = frappe.utils.now_datetime()
				self.modified_by = frappe.session.user
			frappe.db.set_value(
				self.doctype,
				self.name,
				values,
				modified=self.modified,
				modified_by=self.modified_by,
				update_modified=update_modified,
			)
		self.run_method("on_change")
		if commit:
			frappe.db.commit()

	def db_get(self, fieldname):
		return frappe.db.get_value(self.doctype, self.name, fieldname)

	def as_dict(
		self, no_nulls=False, no_default_fields=False, convert_dates_to_str=False, no_child_table_fields=False
	):
		"""The document's columns and child rows only, like v15 (not transient attributes)."""
		columns = ["name", *self.meta.get_valid_columns()]
		result = frappe._dict()
		for key in columns + [df.fieldname for df in self.meta.get_table_fields()]:
			if key in result or key == "doctype":
				continue
			value = self.get(key)
			if isinstance(value, list):
				value = [
					v.as_dict(no_nulls, no_default_fields, convert_dates_to_str)
					if isinstance(v, Document)
					else v
					for v in value
				]
			if no_nulls and value is None:
				continue
			if no_default_fields and key in default_fields:
				continue
			if no_child_table_fields and key in child_table_fields:
				continue
			if convert_dates_to_str and isinstance(
				value, datetime.date | datetime.datetime | datetime.timedelta
			):
				value = str(value)
			result[key] = value
		result["doctype"] = self.doctype
		if self.get("__islocal"):
			result["__islocal"] = 1
		return result

	def as_json(self):
		return frappe.as_json(self.as_dict(no_nulls=True))

	def get_formatted(
		self, fieldname, doc=None, currency=None, absolute_value=False, translated=False, format=None
	):
		return frappe.format(self.get(fieldname), self.meta.get_field(fieldname), doc=self)

	def notify_update(self):
		"""Publish realtime that the current document is modified (v15: after commit)."""
		if frappe.flags.in_patch:
			return
		frappe.publish_realtime(
			"doc_update",
			{"modified": self.modified, "doctype": self.doctype, "name": self.name},
			doctype=self.doctype,
			docname=self.name,
			after_commit=True,
		)
		if not self.meta.get("read_only") and not self.meta.get("issingle") and not self.meta.get("istable"):
			data = {"doctype": self.doctype, "name": self.name, "user": frappe.session.user}
			frappe.publish_realtime("list_update", data, after_commit=True)

	def clear_cache(self):
		frappe.clear_document_cache(self.doctype, self.name)

	def add_comment(
		self,
		comment_type="Comment",
		text=None,
		comment_email=None,
		link_doctype=None,
		link_name=None,
		comment_by=None,
	):
		if not frappe.db.table_exists("Comment"):
			return None
		return frappe.get_doc(
			{
				"doctype": "Comment",
				"comment_type": comment_type,
				"reference_doctype": self.doctype,
				"reference_name": self.name,
				"content": text or comment_type,
				"comment_email": comment_email or frappe.session.user,
			}
		).insert(ignore_permissions=True)

	def queue_action(self, action, **kwargs):
		frappe.enqueue(
			"frappe.utils.background_jobs.run_doc_method",
			doctype=self.doctype,
			name=self.name,
			doc_method=action,
			queue="long" if action in ("submit", "cancel") else "default",
			**kwargs,
		)


def _child_values(child):
	return {
		k: v for k, v in child.as_dict().items() if k not in default_fields and k not in child_table_fields
	}


def _first_select_option(df):
	if df.fieldtype == "Select" and df.options and df.options not in ("[Select]", "Loading..."):
		return df.options.split("\n", 1)[0]


def _default_value(df):
	default = df.get("default")
	if df.fieldtype in ("Check", "Int"):
		return frappe.utils.cint(default)
	if df.fieldtype in ("Float", "Currency", "Percent"):
		return frappe.utils.flt(default)
	if isinstance(default, str):
		if default.lower() == "today" and df.fieldtype == "Date":
			return frappe.utils.getdate()
		if default.lower() == "now" and df.fieldtype == "Datetime":
			return frappe.utils.now_datetime()
		if default.lower() == "now" and df.fieldtype == "Time":
			return frappe.utils.nowtime()
		if default == "__user":
			return frappe.session.user
	return default
