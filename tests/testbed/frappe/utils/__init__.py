# Testbed: frappe.utils with the names, signatures and behaviour of Frappe v15's
# frappe/utils/__init__.py (the part myapp and the testbed use).

import functools
import hashlib
import json
import os
import re
import sys
import traceback
from collections import deque
from collections.abc import Callable, Generator, Iterable
from email.header import decode_header, make_header
from email.utils import formataddr, parseaddr

import frappe
from frappe.utils.data import *  # noqa: F403
from frappe.utils.data import _conf, _throw, _translate, cstr, escape_html, strip
from frappe.utils.html_utils import sanitize_html

EMAIL_NAME_PATTERN = re.compile(r"[^A-Za-z0-9\u00C0-\u024F\/\_\' ]+")
EMAIL_STRING_PATTERN = re.compile(r"([a-zA-Z0-9_.+-]+@[a-zA-Z0-9-]+\.[a-zA-Z0-9-.]+)")
HTML_TAGS_PATTERN = re.compile(r"\<[^>]*\>")
PHONE_NUMBER_PATTERN = re.compile(r"([0-9\ \+\_\-\,\.\*\#\(\)]){1,20}$")
PERSON_NAME_PATTERN = re.compile(r"^[\w][\w\'\-]*( \w[\w\'\-]*)*$")
WHITESPACE_PATTERN = re.compile(r"[\t\n\r]")
MULTI_EMAIL_STRING_PATTERN = re.compile(r'[,\n](?=(?:[^"]|"[^"]*")*$)')
EMAIL_MATCH_PATTERN = re.compile(
	r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]*[a-z0-9])?",
	re.IGNORECASE,
)


def get_fullname(user=None):
	"""Full name (first name + last name) of the user"""
	if not user:
		user = frappe.session.user

	if not hasattr(frappe.local, "fullnames"):
		frappe.local.fullnames = {}

	if not frappe.local.fullnames.get(user):
		p = frappe.db.get_value("User", user, ["first_name", "last_name"], as_dict=True)
		if p:
			frappe.local.fullnames[user] = (
				" ".join(filter(None, [p.get("first_name"), p.get("last_name")])) or user
			)
		else:
			frappe.local.fullnames[user] = user

	return frappe.local.fullnames.get(user)


def get_email_address(user=None):
	"""Email address of the user"""
	if not user:
		user = frappe.session.user
	return frappe.db.get_value("User", user, "email")


def get_formatted_email(user, mail=None):
	"""Email address of the user as `John Doe <johndoe@example.com>`"""
	fullname = get_fullname(user)
	if not mail:
		mail = get_email_address(user) or validate_email_address(user)
	if not mail:
		return ""
	return cstr(make_header(decode_header(formataddr((fullname, mail)))))


def extract_email_id(email):
	"""The email part of an address"""
	return cstr(parse_addr(email)[1])


def validate_phone_number_with_country_code(phone_number: str, fieldname: str) -> None:
	"""v15: a Phone field's value must be a valid number with its country code (phonenumbers)."""
	from phonenumbers import NumberParseException, is_valid_number, parse

	if not phone_number:
		return

	valid_number = False
	error_message = _translate("Phone Number {0} set in field {1} is not valid.")
	error_title = _translate("Invalid Phone Number")
	try:
		if valid_number := is_valid_number(parse(phone_number)):
			return True
	except NumberParseException as e:
		if e.error_type == NumberParseException.INVALID_COUNTRY_CODE:
			error_message = _translate("Please select a country code for field {1}.")
			error_title = _translate("Country Code Required")
	finally:
		if not valid_number:
			frappe.throw(
				error_message.format(frappe.bold(phone_number), frappe.bold(fieldname)),
				title=error_title,
				exc=frappe.InvalidPhoneNumberError,
			)


def validate_phone_number(phone_number, throw=False):
	"""True if the string looks like a phone number"""
	if not phone_number:
		return False

	phone_number = phone_number.strip()
	match = PHONE_NUMBER_PATTERN.match(phone_number)

	if not match and throw:
		_throw(
			_translate("{0} is not a valid Phone Number").format(phone_number),
			getattr(frappe, "InvalidPhoneNumberError", None),
		)

	return bool(match)


def validate_name(name, throw=False):
	"""True if the string is a valid person name"""
	if not name:
		return False

	name = name.strip()
	match = PERSON_NAME_PATTERN.match(name)

	if not match and throw:
		_throw(_translate("{0} is not a valid Name").format(name), getattr(frappe, "InvalidNameError", None))

	return bool(match)


def validate_email_address(email_str, throw=False):
	"""The valid addresses of a comma separated string, joined by ', ' ('' if none)"""
	email = email_str = (email_str or "").strip()

	def _check(e):
		_valid = True
		if not e:
			_valid = False

		if "undisclosed-recipient" in e:
			return False

		elif " " in e and "<" not in e:
			# "test@example.com test2@example.com" would give "test@example.comtest2" after parseaddr
			_valid = False

		else:
			email_id = extract_email_id(e)
			match = EMAIL_MATCH_PATTERN.match(email_id) if email_id else None

			if not match:
				_valid = False

		if not _valid:
			if throw:
				invalid_email = escape_html(e)
				_throw(
					_translate("{0} is not a valid Email Address").format(invalid_email),
					getattr(frappe, "InvalidEmailAddressError", None),
				)
			return None
		return email_id

	out = []
	for e in email_str.split(","):
		email = _check(e.strip())
		if email:
			out.append(email)

	return ", ".join(out)


def split_emails(txt):
	email_list = []

	# emails can be separated by comma or newline
	s = WHITESPACE_PATTERN.sub(" ", cstr(txt))
	for email in MULTI_EMAIL_STRING_PATTERN.split(s):
		email = strip(cstr(email))
		if email:
			email_list.append(email)

	return email_list


def validate_url(txt: str, throw: bool = False, valid_schemes=None) -> bool:
	from urllib.parse import urlparse

	url = urlparse(txt)
	is_valid = bool(url.scheme and (url.netloc or url.path)) or bool(txt and txt.startswith("/"))

	if isinstance(valid_schemes, str):
		is_valid = is_valid and (url.scheme == valid_schemes)
	elif isinstance(valid_schemes, list | tuple | set):
		is_valid = is_valid and (url.scheme in valid_schemes)

	if not is_valid and throw:
		_throw(_translate("'{0}' is not a valid URL").format(f"<strong>{txt}</strong>"))

	return is_valid


def random_string(length: int) -> str:
	"""A random string of letters and digits"""
	import string
	from random import choice

	return "".join(choice(string.ascii_letters + string.digits) for i in range(length))


def get_gravatar_url(email: str, default="mm") -> str:
	hexdigest = hashlib.md5(cstr(email).encode("utf-8"), usedforsecurity=False).hexdigest()
	return f"https://secure.gravatar.com/avatar/{hexdigest}?d={default}&s=200"


def get_traceback(with_context=False) -> str:
	"""The traceback of the exception being handled ('' outside an except block)."""
	exc_type, exc_value, exc_tb = sys.exc_info()

	if not any([exc_type, exc_value, exc_tb]):
		return ""

	if with_context:
		# v15: every frame's local variables, secrets by name redacted (what Error Log and
		# Scheduled Job Log show: an app must keep secrets out of its frames' variables)
		from traceback_with_variables import iter_exc_lines

		tb = "\n".join(iter_exc_lines(fmt=_traceback_sanitizer()))
	else:
		trace_list = traceback.format_exception(exc_type, exc_value, exc_tb)
		tb = "".join(cstr(t) for t in trace_list)

	bench_path = get_bench_path() + "/"
	return tb.replace(bench_path, "")


@functools.lru_cache(maxsize=1)
def _traceback_sanitizer():
	"""v15's variable printer: values of variables named like a secret become ********."""
	from copy import deepcopy

	from traceback_with_variables import Format

	blocklist = ["password", "passwd", "secret", "token", "key", "pwd"]
	placeholder = "********"

	def dict_printer(value: dict) -> str:
		value = deepcopy(value)
		for key in blocklist:
			if key in value:
				value[key] = placeholder
		return str(value)

	return Format(
		custom_var_printers=[
			*[(name, lambda *a, **kw: placeholder) for name in blocklist],
			(["_secret", dict, lambda *a, **kw: False], dict_printer),
			(["_secret", frappe._dict, lambda *a, **kw: False], dict_printer),
		],
	)


def log(event, details):
	frappe.logger(event).info(details)


def dict_to_str(args: dict, sep: str = "&") -> str:
	"""Convert a dictionary to URL"""
	from urllib.parse import quote

	return sep.join(f"{k!s}=" + quote(str(args[k] or "")) for k in list(args))


def list_to_str(seq, sep=", "):
	"""Convert a sequence into a string using a separator"""
	if not seq:
		return ""
	return sep.join(map(str, seq))


def remove_blanks(d: dict) -> dict:
	"""Return d with empty ('' or None) values stripped (in place)"""
	empty_keys = [key for key, value in d.items() if value in ("", None)]
	for key in empty_keys:
		del d[key]
	return d


def strip_html_tags(text):
	"""Remove html tags from the given text."""
	return HTML_TAGS_PATTERN.sub("", text)


def get_path(*path, **kwargs):
	base = kwargs.get("base")
	if not base:
		base = frappe.local.site_path
	return os.path.join(base, *path)


def get_site_base_path():
	return frappe.local.site_path


def get_site_path(*path):
	return get_path(*path, base=get_site_base_path())


def get_files_path(*path, **kwargs):
	return get_site_path("private" if kwargs.get("is_private") else "public", "files", *path)


def get_bench_path():
	return os.environ.get("FRAPPE_BENCH_ROOT") or os.path.realpath(
		os.path.join(os.path.dirname(frappe.__file__), "..", "..", "..")
	)


def get_bench_id():
	get_conf = getattr(frappe, "get_conf", None)
	conf = get_conf() if get_conf else _conf()
	return conf.get("bench_id", get_bench_path().strip("/").replace("/", "-"))


def get_site_id(site=None):
	return f"{site or frappe.local.site}@{get_bench_id()}"


def get_backups_path():
	return get_site_path("private", "backups")


def get_request_site_address(full_address=False):
	return get_url(full_address=full_address)  # noqa: F405


def encode_dict(d, encoding="utf-8"):
	for key in d:
		if isinstance(d[key], str):
			d[key] = d[key].encode(encoding)
	return d


def decode_dict(d, encoding="utf-8"):
	for key in d:
		if isinstance(d[key], str) and not isinstance(d[key], str):
			d[key] = d[key].decode(encoding, "ignore")
	return d


def touch_file(path):
	with open(path, "a"):
		os.utime(path, None)
	return path


def get_hook_method(hook_name, fallback=None):
	method = frappe.get_hooks().get(hook_name)
	if method:
		method = frappe.get_attr(method[0])
		return method
	if fallback:
		return fallback


def call_hook_method(hook, *args, **kwargs):
	out = None
	for method_name in frappe.get_hooks(hook):
		out = out or frappe.get_attr(method_name)(*args, **kwargs)
	return out


def is_cli() -> bool:
	"""Whether the current process is a bench command (not a request or a worker)."""
	invoked_from_terminal = False
	try:
		invoked_from_terminal = bool(os.get_terminal_size())
	except Exception:
		invoked_from_terminal = sys.stdin and sys.stdin.isatty()
	return invoked_from_terminal


def get_sites(sites_path=None):
	if not sites_path:
		sites_path = getattr(frappe.local, "sites_path", None) or "."

	sites = []
	for site in os.listdir(sites_path):
		path = os.path.join(sites_path, site)
		if (
			os.path.isdir(path)
			and not os.path.islink(path)
			and os.path.exists(os.path.join(path, "site_config.json"))
		):
			# is a dir and has site_config.json
			sites.append(site)

	return sorted(sites)


def sanitize_email(emails):
	sanitized = []
	for e in split_emails(emails):
		if not validate_email_address(e):
			continue
		full_name, email_id = parse_addr(e)
		sanitized.append(formataddr((full_name, email_id)))
	return ", ".join(sanitized)


def parse_addr(email_string):
	"""Return (name, email_id) of an address string"""
	name, email = parseaddr(email_string)
	if check_format(email):
		name = get_name_from_email_string(email_string, email, name)
		return (name, email)
	else:
		email_list = EMAIL_STRING_PATTERN.findall(email_string)
		if len(email_list) > 0 and check_format(email_list[0]):
			# take only first email address
			email = email_list[0]
			name = get_name_from_email_string(email_string, email, name)
			return (name, email)
	return (None, email)


def check_format(email_id):
	"""Check if a string is in email format"""
	is_valid = False
	try:
		pos = email_id.rindex("@")
		is_valid = pos > 0 and (email_id.rindex(".") > pos) and (len(email_id) - pos > 4)
	except Exception:
		pass
	return is_valid


def get_name_from_email_string(email_string, email_id, name):
	name = email_string.replace(email_id, "")
	name = EMAIL_NAME_PATTERN.sub("", name).strip()
	if not name:
		name = email_id
	return name


def parse_json(val):
	"""Parse json if string else return"""
	if isinstance(val, str):
		val = json.loads(val)
	if isinstance(val, dict):
		val = frappe._dict(val)
	return val


def create_batch(iterable: Iterable, size: int) -> Generator[Iterable, None, None]:
	"""Split a subscriptable iterable into batches of at most `size` items"""
	total_count = len(iterable)
	for i in range(0, total_count, size):
		yield iterable[i : min(i + size, total_count)]


def get_file_size(path, format=False):
	num = os.path.getsize(path)

	if not format:
		return num

	suffix = "B"

	for unit in ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi"]:
		if abs(num) < 1024:
			return f"{num:3.1f}{unit}{suffix}"
		num /= 1024

	return "{:.1f}{}{}".format(num, "Yi", suffix)


def get_table_name(table_name: str, wrap_in_backticks: bool = False) -> str:
	name = f"tab{table_name}" if not table_name.startswith("__") else table_name
	if wrap_in_backticks:
		return f"`{name}`"
	return name


def squashify(what):
	if isinstance(what, list | tuple) and len(what) == 1:
		return what[0]
	return what


def safe_json_loads(*args):
	results = []
	for arg in args:
		try:
			arg = json.loads(arg)
		except Exception:
			pass
		results.append(arg)
	return squashify(results)


def dictify(arg):
	if isinstance(arg, list | tuple):
		return [dictify(i) for i in arg]
	elif isinstance(arg, dict):
		return frappe._dict({k: dictify(v) for k, v in arg.items()})
	return arg


class CallbackManager:
	"""Manage callbacks.

	```
	callbacks = CallbackManager()
	callbacks.add(func)  # queue a call
	callbacks.run()  # run all pending calls, in order of addition
	callbacks.reset()  # drop pending calls
	```

	Example usage: frappe.db.after_commit
	"""

	__slots__ = ("_functions",)

	def __init__(self) -> None:
		self._functions = deque()

	def add(self, func: Callable) -> None:
		"""Add a function to queue, functions are executed in order of addition."""
		self._functions.append(func)

	def __call__(self, func: Callable) -> None:
		self.add(func)

	def run(self):
		"""Run all functions in queue"""
		while self._functions:
			_func = self._functions.popleft()
			_func()

	def reset(self):
		self._functions.clear()
