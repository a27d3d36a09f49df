"""Document naming as in v15's frappe/model/naming.py: hash, field:, naming_series:, PREFIX.#####, format:."""

import base64
import re
from secrets import token_bytes

import frappe
from frappe import _


def set_new_name(doc):
	doc.run_method("before_naming")
	meta = frappe.get_meta(doc.doctype)
	autoname = meta.get("autoname") or ""

	# A name passed in is kept only for "Prompt" DocTypes and during imports, as in Frappe.
	if autoname.lower() != "prompt" and not frappe.flags.in_import:
		doc.name = None
	if meta.issingle:
		doc.name = doc.doctype
	if not doc.name:
		doc.run_method("autoname")
	if not doc.name and autoname:
		set_name_from_naming_options(autoname, doc)
	if not doc.name:
		doc.name = make_autoname("hash", doc.doctype)
	doc.name = validate_name(doc.doctype, doc.name)


def set_name_from_naming_options(autoname, doc):
	lowered = autoname.lower()
	if lowered.startswith("field:"):
		fieldname = autoname[6:].strip()
		doc.name = (
			(doc.get(fieldname) or "").strip() if isinstance(doc.get(fieldname), str) else doc.get(fieldname)
		)
		if not doc.name:
			frappe.throw(_("{0} is required").format(fieldname), frappe.MandatoryError)
	elif lowered.startswith("naming_series:"):
		if not doc.get("naming_series"):
			doc.naming_series = get_default_naming_series(doc.doctype)
		if not doc.get("naming_series"):
			frappe.throw(_("Naming Series mandatory"))
		series = doc.naming_series
		doc.name = make_autoname(series if "#" in series else series + ".#####", "", doc)
	elif lowered.startswith("format:"):
		doc.name = _format_autoname(autoname[7:], doc)
	elif "#" in autoname:
		doc.name = make_autoname(autoname, doc=doc)


def get_default_naming_series(doctype):
	df = frappe.get_meta(doctype).get_field("naming_series")
	if not df:
		return None
	options = [o for o in (df.get("options") or "").split("\n") if o.strip()]
	return df.get("default") or (options[0] if options else None)


def make_autoname(key="", doctype="", doc="", *, ignore_validate=False):
	if key == "hash":
		return base64.b32hexencode(token_bytes(10)).decode()[:10].lower()
	return parse_naming_series(key, doc=doc)


def parse_naming_series(parts, doctype=None, doc=None):
	if isinstance(parts, str):
		parts = parts.split(".")
	today = frappe.utils.now_datetime()
	name = ""
	for part in parts:
		if not part:
			continue
		if part.startswith("#"):
			name += getseries(name, len(part))
		elif part == "YY":
			name += today.strftime("%y")
		elif part == "YYYY":
			name += today.strftime("%Y")
		elif part == "MM":
			name += today.strftime("%m")
		elif part == "DD":
			name += today.strftime("%d")
		elif doc and part.startswith("{") and part.endswith("}"):
			name += str(doc.get(part[1:-1]) or "")
		elif doc and doc.get(part) and part not in ("YY", "MM", "DD"):
			name += str(doc.get(part))
		else:
			name += part
	return name


def getseries(key, digits):
	current = frappe.db.sql("select `current` from `tabSeries` where `name`=%s for update", key)
	if current and current[0][0] is not None:
		frappe.db.sql("update `tabSeries` set `current` = `current` + 1 where `name`=%s", key)
		current = int(current[0][0]) + 1
	else:
		frappe.db.sql("insert into `tabSeries` (`name`, `current`) values (%s, 1)", key)
		current = 1
	return ("%0" + str(digits) + "d") % current


def _format_autoname(pattern, doc):
	def replace(match):
		word = match.group(1)
		if word.startswith("#"):
			return getseries(prefix_before(match.start()), len(word))
		return parse_naming_series([word], doc=doc)

	def prefix_before(position):
		return re.sub(
			r"\{([^}]+)\}", lambda m: parse_naming_series([m.group(1)], doc=doc), pattern[:position]
		)

	return re.sub(r"\{([^}]+)\}", replace, pattern)


def validate_name(doctype: str, name: int | str):
	"""v15: a name is set, not "New <DocType>", not the DocType's own name, and has no < or >."""
	if not name:
		frappe.throw(_("No Name Specified for {0}").format(doctype))

	if isinstance(name, int):
		if (frappe.get_meta(doctype).get("autoname") or "") == "autoincrement":
			return name
		frappe.throw(_("Invalid name type (integer) for varchar name column"), frappe.NameError)

	if name.startswith("New " + doctype):
		frappe.throw(
			_("There were some errors setting the name, please contact the administrator"), frappe.NameError
		)
	name = name.strip()

	if not frappe.get_meta(doctype).get("issingle") and (doctype == name) and (name != "DocType"):
		frappe.throw(_("Name of {0} cannot be {1}").format(doctype, name), frappe.NameError)

	special_characters = "<>"
	if re.findall(f"[{special_characters}]+", name):
		message = ", ".join(f"'{c}'" for c in special_characters)
		frappe.throw(_("Name cannot contain special characters like {0}").format(message), frappe.NameError)

	return name


def append_number_if_name_exists(doctype, value, fieldname="name", separator="-", filters=None):
	filters = dict(filters or {})
	filters[fieldname] = value
	if not frappe.db.exists(doctype, filters):
		return value
	count = 1
	while frappe.db.exists(doctype, {**filters, fieldname: f"{value}{separator}{count}"}):
		count += 1
	return f"{value}{separator}{count}"
