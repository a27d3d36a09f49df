"""The testbed's `frappe`: the part of Frappe v15's API that myapp uses, with Frappe's semantics.

Context (`local`, `init`, `connect`, `destroy`), documents, queries, hooks, permissions and the
thin wrappers around jobs, realtime, email and error logs. See tests/testbed/README.md.
"""

import importlib
import inspect
import json
import os
import threading
import traceback
import types
from typing import Any

from frappe.exceptions import *  # noqa: F403
from frappe.exceptions import (
	DoesNotExistError,
	PermissionError,
	ValidationError,
)

__version__ = "15.55.1-testbed"
__title__ = "Frappe Framework (testbed)"


class _dict(dict):
	"""dict like object that exposes keys as attributes"""

	__slots__ = ()
	__getattr__ = dict.get
	__setattr__ = dict.__setitem__
	__delattr__ = dict.__delitem__
	__setstate__ = dict.update

	def __getstate__(self):
		return self

	def update(self, *args, **kwargs):
		super().update(*args, **kwargs)
		return self

	def copy(self):
		return _dict(self)


class _Local(threading.local):
	pass


local = _Local()

STANDARD_USERS = ("Guest", "Administrator")
cache = None
_LOCAL_PROXIES = ("db", "conf", "form_dict", "request", "job", "response", "session", "user", "flags", "lang", "error_log", "message_log", "debug_log")  # fmt: skip
whitelisted = []
guest_methods = []
xss_safe_methods = []
allowed_http_methods_for_whitelisted_func = {}


def __getattr__(name):
	# `frappe.db`, `frappe.conf`, ... read the current context like Frappe's werkzeug LocalProxy
	if name in _LOCAL_PROXIES:
		return getattr(local, name, None)
	if name == "form":
		return getattr(local, "form_dict", None)
	raise AttributeError(f"module 'frappe' has no attribute {name!r}")


def _(msg: str, lang: str | None = None, context: str | None = None) -> str:
	return msg


def _lt(msg, lang=None, context=None):
	return msg


def as_unicode(text, encoding="utf-8"):
	if isinstance(text, bytes):
		return text.decode(encoding)
	return str(text) if text is not None else ""


# context
def init(site: str, sites_path: str = ".", new_site: bool = False, force=False) -> None:
	if getattr(local, "initialised", None) and not force:
		return
	local.error_log = []
	local.message_log = []
	local.debug_log = []
	local.flags = _dict(
		currently_saving=[],
		in_install_db=False,
		in_install_app=False,
		in_import=False,
		in_test=False,
		mute_messages=False,
		ignore_links=False,
		mute_emails=False,
		new_site=new_site,
		read_only=False,
	)
	local.site = site
	local.sites_path = sites_path
	local.site_path = os.path.join(sites_path, site)
	local.request_ip = None
	local.response = _dict({"docs": []})
	local.task_id = None
	local.conf = _dict(get_site_config())
	local.lang = local.conf.lang or "en"
	local.user = None
	local.session = _dict()
	local.form_dict = _dict()
	local.request = None
	local.job = None
	local.cache = {}
	local.role_permissions = {}
	setup_redis_cache_connection()
	local.initialised = True


def connect(site: str | None = None, db_name: str | None = None, set_admin_as_user: bool = True) -> None:
	from frappe.database import get_db

	if site:
		init(site)
	assert db_name or local.conf.db_name, "site must be fully initialized, db_name missing"
	local.db = get_db(
		socket=local.conf.db_socket,
		host=local.conf.db_host,
		port=local.conf.db_port,
		user=local.conf.db_user or local.conf.db_name or db_name,
		password=local.conf.db_password,
		cur_db_name=local.conf.db_name or db_name,
	)
	local.db.connect()
	if set_admin_as_user:
		set_user("Administrator")


def get_site_config(sites_path: str | None = None, site_path: str | None = None) -> dict[str, Any]:
	config = _dict()
	sites_path = sites_path or getattr(local, "sites_path", None)
	site_path = site_path or getattr(local, "site_path", None)
	if sites_path:
		config.update(get_common_site_config(sites_path))
	if site_path and getattr(local, "site", None):
		site_config = os.path.join(site_path, "site_config.json")
		if os.path.exists(site_config):
			with open(site_config) as f:
				config.update(json.load(f))
		elif not local.flags.new_site:
			raise IncorrectSitePath(f"{local.site} does not exist")  # noqa: F405
	return config


def get_common_site_config(sites_path: str | None = None) -> dict[str, Any]:
	path = os.path.join(sites_path or getattr(local, "sites_path", "."), "common_site_config.json")
	if os.path.exists(path):
		with open(path) as f:
			return _dict(json.load(f))
	return _dict()


def get_conf(site: str | None = None) -> dict[str, Any]:
	if hasattr(local, "conf"):
		return local.conf
	with init_site(site):
		return local.conf


class init_site:
	def __init__(self, site=None):
		self.site = site or ""

	def __enter__(self):
		init(self.site)
		return local

	def __exit__(self, type, value, traceback):
		destroy()


def destroy():
	"""Close the connection and release the context (what a job's callbacks then run without)."""
	if getattr(local, "db", None):
		local.db.close()
	local.__dict__.clear()


def setup_redis_cache_connection():
	global cache
	if not cache:
		from frappe.utils.redis_wrapper import setup_cache

		cache = setup_cache()


def get_site_path(*joins):
	return os.path.join(local.site_path, *joins)


def get_traceback(with_context: bool = False) -> str:
	from frappe.utils import get_traceback

	return get_traceback(with_context=with_context)


def log(msg: str) -> None:
	if not getattr(local, "debug_log", None):
		local.debug_log = []
	local.debug_log.append(str(msg))


def errprint(msg: str) -> None:
	print(msg)


def msgprint(
	msg,
	title=None,
	raise_exception=0,
	as_table=False,
	as_list=False,
	indicator=None,
	alert=False,
	primary_action=None,
	is_minimizable=None,
	wide=None,
	*,
	realtime=False,
):  # noqa: E501
	out = _dict(message=msg)
	if title:
		out.title = title
	if indicator:
		out.indicator = indicator
	if alert:
		out.alert = 1
	if raise_exception:
		if inspect.isclass(raise_exception) and issubclass(raise_exception, Exception):
			exc = raise_exception(msg)
		else:
			exc = ValidationError(msg)
		if out.__class__ is _dict:
			exc.__frappe_message = out
		raise exc
	if not getattr(local, "message_log", None):
		local.message_log = []
	local.message_log.append(out)


def clear_messages():
	local.message_log = []


def get_message_log() -> list[dict]:
	return [m for m in getattr(local, "message_log", [])]


def throw(
	msg: str,
	exc: type[Exception] = ValidationError,
	title: str | None = None,
	is_minimizable: bool = False,
	wide: bool = False,
	as_list: bool = False,
	primary_action=None,
) -> None:  # noqa: E501
	msgprint(msg, raise_exception=exc, title=title, indicator="red")


def set_user(username: str):
	from frappe.permissions import get_roles  # noqa: F401

	local.session = _dict(user=username, sid=username, data=_dict())
	local.user = username
	local.role_permissions = {}
	local.new_doc_templates = {}
	local.user_perms = None


def get_user():
	return _dict(name=local.session.user)


def get_roles(username=None) -> list[str]:
	from frappe.permissions import get_roles

	if not getattr(local, "session", None) or not local.session.get("user"):
		return ["Guest"]
	return get_roles(username or local.session.user)


def only_for(roles, message=False):
	if getattr(local, "flags", None) and local.flags.in_test:
		return
	if isinstance(roles, str):
		roles = (roles,)
	if set(roles).isdisjoint(get_roles()):
		if not message:
			raise PermissionError
		throw(_("This action is only allowed for {}").format(", ".join(roles)), PermissionError)


def has_permission(
	doctype=None,
	ptype="read",
	doc=None,
	user=None,
	verbose=False,
	throw=False,
	*,
	parent_doctype=None,
	debug=False,
):  # noqa: E501
	import frappe.permissions

	if not doctype and doc:
		doctype = doc.doctype
	out = frappe.permissions.has_permission(doctype, ptype, doc=doc, user=user, parent_doctype=parent_doctype)
	if throw and not out:
		document_label = f"{_(doctype)} {doc if isinstance(doc, str) else doc.name}" if doc else _(doctype)
		msgprint(_("No permission for {0}").format(document_label), raise_exception=PermissionError)
	return out


def whitelist(allow_guest=False, xss_safe=False, methods=None):
	if not methods:
		methods = ["GET", "POST", "PUT", "DELETE"]

	def innerfn(fn):
		from frappe.utils.typing_validations import validate_argument_types

		global whitelisted, guest_methods, xss_safe_methods, allowed_http_methods_for_whitelisted_func
		# annotated parameters are validated (and converted) in a request or a test, as in v15
		fn = validate_argument_types(
			fn, apply_condition=lambda: getattr(local, "request", None) or local.flags.in_test
		)
		whitelisted.append(fn)
		allowed_http_methods_for_whitelisted_func[fn] = methods
		if allow_guest:
			guest_methods.append(fn)
			if xss_safe:
				xss_safe_methods.append(fn)
		return fn

	return innerfn


def is_whitelisted(method):
	is_guest = local.session["user"] == "Guest"
	if method not in whitelisted or (is_guest and method not in guest_methods):
		summary = _("You are not permitted to access this resource.")
		detail = _("Function {0} is not whitelisted.").format(
			f"<code>{method.__module__}.{method.__name__}</code>"
		)
		msg = f"<details><summary>{summary}</summary>{detail}</details>"
		throw(msg, PermissionError, title=_("Method Not Allowed"))


def read_only():
	def innfn(fn):
		return fn

	return innfn


# documents and queries
def get_meta(doctype, cached=True):
	from frappe.model.meta import get_meta

	return get_meta(doctype, cached=cached)


def clear_cache(user=None, doctype=None):
	from frappe.model.meta import clear_meta_cache

	clear_meta_cache(doctype)
	if hasattr(local, "doc_events_hooks"):
		del local.doc_events_hooks


def clear_document_cache(doctype, name=None):
	pass


def get_doc(*args, **kwargs):
	from frappe.model.document import get_doc

	return get_doc(*args, **kwargs)


def get_cached_doc(*args, **kwargs):
	return get_doc(*args, **kwargs)


def get_last_doc(doctype, filters=None, order_by="creation desc", *, for_update=False):
	names = get_all(doctype, filters=filters, limit_page_length=1, order_by=order_by, pluck="name")
	if names:
		return get_doc(doctype, names[0], for_update=for_update)
	raise DoesNotExistError(_("No {0} found").format(_(doctype)))


def get_single(doctype):
	return get_doc(doctype, doctype)


def new_doc(doctype, *, parent_doc=None, parentfield=None, as_dict=False, **kwargs):
	doc = get_doc({"doctype": doctype, **kwargs})
	return doc.as_dict() if as_dict else doc


def copy_doc(doc, ignore_no_copy=True):
	"""v15: a new unsaved copy; no_copy fields are copied too unless `ignore_no_copy=False`."""
	import copy

	def remove_no_copy_fields(d):
		for df in d.meta.fields:
			if df.get("no_copy") and df.fieldname in d.__dict__:
				d.set(df.fieldname, None)

	fields_to_clear = ["name", "owner", "creation", "modified", "modified_by"]
	if not local.flags.in_test:
		fields_to_clear.append("docstatus")

	newdoc = get_doc(copy.deepcopy(doc if isinstance(doc, dict) else doc.as_dict()))
	newdoc.set("__islocal", 1)
	for fieldname in [*fields_to_clear, "amended_from", "amendment_date"]:
		newdoc.set(fieldname, None)
	if not ignore_no_copy:
		remove_no_copy_fields(newdoc)
	for child in newdoc.get_children():
		child.set("__islocal", 1)
		for fieldname in fields_to_clear:
			child.set(fieldname, None)
		if not ignore_no_copy:
			remove_no_copy_fields(child)
	return newdoc


def delete_doc(
	doctype=None,
	name=None,
	force=0,
	ignore_doctypes=None,
	for_reload=False,
	ignore_permissions=False,
	flags=None,
	ignore_on_trash=False,
	ignore_missing=True,
	delete_permanently=False,
):  # noqa: E501
	import frappe.model.delete_doc

	frappe.model.delete_doc.delete_doc(
		doctype,
		name,
		force,
		ignore_doctypes,
		for_reload,
		ignore_permissions,
		flags,
		ignore_on_trash,
		ignore_missing,
		delete_permanently,  # noqa: E501
	)


def delete_doc_if_exists(doctype, name, force=0):
	if local.db.exists(doctype, name):
		delete_doc(doctype, name, force=force)


def get_list(doctype, *args, **kwargs):
	from frappe.model.db_query import execute

	return execute(doctype, *args, **kwargs)


def get_all(doctype, *args, **kwargs):
	kwargs["ignore_permissions"] = True
	if "limit_page_length" not in kwargs:
		kwargs["limit_page_length"] = 0
	return get_list(doctype, *args, **kwargs)


def get_value(*args, **kwargs):
	return local.db.get_value(*args, **kwargs)


def set_value(doctype, docname, fieldname, value=None):
	doc = get_doc(doctype, docname)
	doc.update(fieldname if isinstance(fieldname, dict) else {fieldname: value})
	doc.save()
	return doc


def generate_hash(txt: str | None = None, length: int = 56) -> str:
	import secrets

	return secrets.token_hex(length // 2 + 1)[:length]


def scrub(txt: str) -> str:
	return cstr(txt).replace(" ", "_").replace("-", "_").lower()


def unscrub(txt: str) -> str:
	return txt.replace("_", " ").replace("-", " ").title()


def cstr(s, encoding="utf-8"):
	from frappe.utils import cstr

	return cstr(s, encoding)


def bold(text):
	return f"<strong>{text}</strong>"


def get_desk_link(doctype, name):
	from frappe.utils import escape_html

	return f'<a href="/app/{slug(doctype)}/{name}" style="font-weight: bold;">{_(doctype)} {escape_html(name)}</a>'


def slug(name):
	return name.lower().replace(" ", "-")


# apps, modules and hooks
def get_installed_apps(*, _ensure_on_bench=False) -> list[str]:
	conf = getattr(local, "conf", None) or {}
	if conf.get("installed_apps"):
		return list(conf["installed_apps"])
	return get_all_apps()


def get_all_apps(with_internal_apps=True, sites_path=None):
	path = os.path.join(sites_path or getattr(local, "sites_path", "."), "apps.txt")
	if os.path.exists(path):
		with open(path) as f:
			return [a.strip() for a in f.read().splitlines() if a.strip()]
	return ["frappe"]


def get_module(modulename):
	return importlib.import_module(modulename)


def get_app_path(app_name, *joins):
	return os.path.join(os.path.dirname(get_module(app_name).__file__), *joins)


def get_module_path(module, *joins):
	for app in get_installed_apps():
		if module in get_module_list(app) or scrub(module) == app:
			return get_app_path(app, scrub(module), *joins)
	raise DoesNotExistError(f"Module {module} not found")


def get_pymodule_path(modulename, *joins):
	return os.path.join(os.path.dirname(get_module(scrub(modulename)).__file__), *joins)


def get_module_list(app_name):
	path = get_app_path(app_name, "modules.txt")
	with open(path) as f:
		return [m.strip() for m in f.read().splitlines() if m.strip()]


def get_file_json(path):
	with open(path) as f:
		return json.load(f)


def read_file(path, raise_not_found=False):
	if os.path.exists(path):
		with open(path) as f:
			return f.read()
	if raise_not_found:
		raise OSError(f"{path} Not Found")
	return None


def _load_app_hooks(app_name=None):
	hooks = {}
	apps = [app_name] if app_name else get_installed_apps()
	for app in apps:
		app_hooks = get_module(f"{app}.hooks")

		def _is_valid_hook(obj):
			return not isinstance(obj, types.ModuleType | types.FunctionType | type)

		for key, value in inspect.getmembers(app_hooks, predicate=_is_valid_hook):
			if not key.startswith("_"):
				append_hook(hooks, key, value)
	return hooks


def get_hooks(
	hook: str | None = None, default: Any | None = "_KEEP_DEFAULT_LIST", app_name: str | None = None
):
	hooks = _dict(_load_app_hooks(app_name))
	if hook:
		return hooks.get(hook, ([] if default == "_KEEP_DEFAULT_LIST" else default))
	return hooks


def append_hook(target, key, value):
	if isinstance(value, dict):
		target.setdefault(key, {})
		for inkey in value:
			append_hook(target[key], inkey, value[inkey])
	else:
		if key not in target:
			target[key] = []
		if not isinstance(value, list):
			value = [value]
		target[key].extend(value)


def get_doc_hooks():
	if not hasattr(local, "doc_events_hooks"):
		hooks = get_hooks("doc_events", {})
		out = {}
		for key, value in hooks.items():
			if isinstance(key, tuple):
				for doctype in key:
					append_hook(out, doctype, value)
			else:
				append_hook(out, key, value)
		local.doc_events_hooks = out
	return local.doc_events_hooks


def get_attr(method_string: str) -> Any:
	app_name = method_string.split(".", 1)[0]
	flags = getattr(local, "flags", None) or _dict()
	if not flags.in_uninstall and not flags.in_install and app_name not in get_installed_apps():
		throw(_("App {0} is not installed").format(app_name), AppNotInstalledError)  # noqa: F405
	modulename = ".".join(method_string.split(".")[:-1])
	methodname = method_string.split(".")[-1]
	return getattr(get_module(modulename), methodname)


def call(fn, *args, **kwargs):
	if isinstance(fn, str):
		fn = get_attr(fn)
	return fn(*args, **get_newargs(fn, kwargs))


def get_newargs(fn, kwargs):
	signature = inspect.signature(fn)
	fnargs = list(signature.parameters)
	varkw_exist = False
	for param_name, parameter in signature.parameters.items():
		if parameter.kind == inspect.Parameter.VAR_KEYWORD:
			varkw_exist = True
			fnargs.remove(param_name)
			break
	newargs = {a: kwargs.get(a) for a in kwargs if a in fnargs or varkw_exist}
	newargs.pop("ignore_permissions", None)
	newargs.pop("flags", None)
	return newargs


# serialisation and formatting
def parse_json(val):
	from frappe.utils import parse_json

	return parse_json(val)


def as_json(obj, indent=1, separators=None, ensure_ascii=True) -> str:
	from frappe.utils.response import json_handler

	if separators is None:
		separators = (",", ": ")
	try:
		return json.dumps(
			obj,
			indent=indent,
			sort_keys=True,
			default=json_handler,
			separators=separators,
			ensure_ascii=ensure_ascii,
		)
	except TypeError:
		return json.dumps(
			obj, indent=indent, default=json_handler, separators=separators, ensure_ascii=ensure_ascii
		)


def format_value(*args, **kwargs):
	from frappe.utils.formatters import format_value

	return format_value(*args, **kwargs)


format = format_value


def render_template(*args, **kwargs):
	from frappe.utils.jinja import render_template

	return render_template(*args, **kwargs)


def get_template(*args, **kwargs):
	from frappe.utils.jinja import get_template

	return get_template(*args, **kwargs)


def logger(module=None, with_more_info=False, allow_site=True, filter=None, max_size=100_000, file_count=20):
	from frappe.utils.logger import get_logger

	return get_logger(
		module=module,
		with_more_info=with_more_info,
		allow_site=allow_site,
		filter=filter,
		max_size=max_size,
		file_count=file_count,
	)  # noqa: E501


# side channels: jobs, realtime, email, errors
def enqueue(*args, **kwargs):
	import frappe.utils.background_jobs

	return frappe.utils.background_jobs.enqueue(*args, **kwargs)


def enqueue_doc(*args, **kwargs):
	import frappe.utils.background_jobs

	return frappe.utils.background_jobs.enqueue_doc(*args, **kwargs)


def publish_progress(*args, **kwargs):
	import frappe.realtime

	return frappe.realtime.publish_progress(*args, **kwargs)


def publish_realtime(*args, **kwargs):
	import frappe.realtime

	return frappe.realtime.publish_realtime(*args, **kwargs)


def sendmail(*args, **kwargs):
	from frappe.email import sendmail

	return sendmail(*args, **kwargs)


def log_error(title=None, message=None, reference_doctype=None, reference_name=None, *, defer_insert=False):
	from frappe.utils.error import log_error

	return log_error(title, message, reference_doctype, reference_name, defer_insert=defer_insert)


def get_system_settings(key):
	return local.db.get_single_value("System Settings", key)


def safe_encode(param, encoding="utf-8"):
	return param.encode(encoding) if isinstance(param, str) else param


def safe_decode(param, encoding="utf-8", fallback_map=None):
	return param.decode(encoding) if isinstance(param, bytes) else param


def print_traceback():
	traceback.print_exc()
