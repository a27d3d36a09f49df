# Testbed: frappe.utils.formatters.format_value with Frappe v15's signature and behaviour.

import datetime
import re

from dateutil.parser import ParserError

import frappe
from frappe.utils import (
	cint,
	cstr,
	flt,
	fmt_money,
	format_datetime,
	format_duration,
	format_time,
	format_timedelta,
	formatdate,
	get_number_format_info,
)
from frappe.utils.data import _get_default, _translate

BLOCK_TAGS_PATTERN = re.compile(r"(<br|<div|<p)")


def _dict(*args, **kwargs):
	return frappe._dict(*args, **kwargs)


def get_field_precision(df, doc=None, currency=None):
	"""Precision of a Currency/Float field: its own, else the site's (as frappe.model.meta does)."""
	if df.get("precision"):
		return cint(df.get("precision"))
	if df.get("fieldtype") == "Currency":
		precision = cint(_get_default("currency_precision"))
		if not precision:
			number_format = _get_default("number_format") or "#,###.##"
			precision = get_number_format_info(number_format)[2]
		return precision
	return cint(_get_default("float_precision")) or 3


def get_field_currency(df, doc=None):
	"""Currency of a Currency field: the value of the field named in its options (or the parent's)."""
	options = cstr(df.get("options"))
	if not options or not doc:
		return None

	if ":" in options:
		split_opts = options.split(":")
		if len(split_opts) == 3 and doc.get(split_opts[1]):
			return frappe.db.get_value(split_opts[0], doc.get(split_opts[1]), split_opts[2], cache=True)
		return None

	currency = doc.get(options)
	if not currency and doc.get("parenttype") and doc.get("parent"):
		meta = frappe.get_meta(doc.get("parenttype"))
		if meta.has_field(options):
			currency = frappe.db.get_value(doc.get("parenttype"), doc.get("parent"), options)
	return currency


def format_value(value, df=None, doc=None, currency=None, translated=False, format=None):
	"""Format value based on given fieldtype, document reference, currency reference.
	If docfield info (df) is not given, it will try and guess based on the datatype of the value"""
	if isinstance(df, str):
		df = _dict(fieldtype=df)

	if not df:
		df = _dict()
		if isinstance(value, datetime.datetime):
			df.fieldtype = "Datetime"
		elif isinstance(value, datetime.date):
			df.fieldtype = "Date"
		elif isinstance(value, datetime.timedelta):
			df.fieldtype = "Time"
		elif isinstance(value, int):
			df.fieldtype = "Int"
		elif isinstance(value, float):
			df.fieldtype = "Float"
		else:
			df.fieldtype = "Data"

	elif isinstance(df, dict):
		df = _dict(df)

	if value is None:
		value = ""
	elif translated:
		value = _translate(value)

	if not df:
		return value

	elif df.get("fieldtype") == "Date":
		return formatdate(value)

	elif df.get("fieldtype") == "Datetime":
		return format_datetime(value)

	elif df.get("fieldtype") == "Time":
		try:
			return format_time(value)
		except ParserError:
			return format_timedelta(value)

	elif (
		value == 0
		and df.get("fieldtype") in ("Int", "Float", "Currency", "Percent")
		and df.get("print_hide_if_no_value")
	):
		# this is required to show 0 as blank in table columns
		return ""

	elif df.get("fieldtype") == "Currency":
		default_currency = _get_default("currency")
		currency = currency or get_field_currency(df, doc) or default_currency
		return fmt_money(value, precision=get_field_precision(df, doc), currency=currency, format=format)

	elif df.get("fieldtype") == "Float":
		precision = get_field_precision(df, doc)
		currency = currency or get_field_currency(df, doc)

		# show 1.000000 as 1
		if not df.get("options") and value is not None:
			temp = cstr(value).split(".")
			if len(temp) == 1 or cint(temp[1]) == 0:
				precision = 0

		return fmt_money(value, precision=precision, currency=currency)

	elif df.get("fieldtype") == "Percent":
		return f"{flt(value, 2)}%"

	elif df.get("fieldtype") in ("Text", "Small Text"):
		if not BLOCK_TAGS_PATTERN.search(value):
			return cstr(value).replace("\n", "<br>")

	elif df.get("fieldtype") == "Duration":
		return format_duration(value, df.get("hide_days"))

	elif df.get("fieldtype") == "Text Editor":
		return f"<div class='ql-snow'>{value}</div>"

	elif df.get("fieldtype") in ["Link", "Dynamic Link"]:
		if not doc or not doc.get("__link_titles") or not df.get("options"):
			return value
		doctype = df.options
		if df.get("fieldtype") == "Dynamic Link":
			if not df.get("parent"):
				return value
			doctype = frappe.get_meta(df.parent).get_field(df.options).options
		return doc.get("__link_titles").get(f"{doctype}::{value}", value)

	elif df.get("fieldtype") == "Select":
		if isinstance(value, str):
			return _translate(value)

	return value
