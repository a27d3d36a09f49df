# Testbed: Jinja rendering as in Frappe v15 (frappe/utils/jinja.py): a sandboxed environment
# without autoescape, templates loaded from the installed apps' packages, and a `frappe`
# namespace of safe globals.


def get_jenv():
	import frappe

	if not getattr(frappe.local, "jenv", None):
		from jinja2 import DebugUndefined
		from jinja2.sandbox import SandboxedEnvironment

		unsafe_attributes = UNSAFE_ATTRIBUTES - {"format", "format_map"}

		class FrappeSandboxedEnvironment(SandboxedEnvironment):
			def is_safe_attribute(self, obj, attr, *args, **kwargs):
				if attr in unsafe_attributes:
					return False
				return super().is_safe_attribute(obj, attr, *args, **kwargs)

		# frappe will be loaded last, so app templates will get precedence
		jenv = FrappeSandboxedEnvironment(loader=get_jloader(), undefined=DebugUndefined)
		set_filters(jenv)
		jenv.globals.update(get_safe_globals())

		methods, filters = get_jinja_hooks()
		jenv.globals.update(methods or {})
		jenv.filters.update(filters or {})

		frappe.local.jenv = jenv

	return frappe.local.jenv


def get_template(path):
	return get_jenv().get_template(path)


def get_email_from_template(name, args):
	from jinja2 import TemplateNotFound

	args = args or {}
	message = get_template("templates/emails/" + name + ".html").render(args)
	try:
		text_content = get_template("templates/emails/" + name + ".txt").render(args)
	except TemplateNotFound:
		text_content = None
	return (message, text_content)


def validate_template(html):
	"""Throw if there is a syntax error in the Jinja template"""
	from jinja2 import TemplateSyntaxError

	import frappe

	if not html:
		return
	try:
		get_jenv().from_string(html)
	except TemplateSyntaxError as e:
		frappe.throw(f"Syntax error in template as line {e.lineno}: {e.message}")


def render_template(template, context=None, is_path=None, safe_render=True):
	"""Render a template using Jinja

	:param template: path or HTML containing the jinja template
	:param context: dict of properties to pass to the template
	:param is_path: (optional) assert that the `template` parameter is a path
	:param safe_render: (optional) prevent server side scripting via jinja templating
	"""
	from jinja2 import TemplateError

	import frappe
	from frappe import _

	if not template:
		return ""

	if context is None:
		context = {}

	if is_path or guess_is_path(template):
		return get_jenv().get_template(template).render(context)

	if safe_render and ".__" in template:
		frappe.throw(_("Illegal template"))
	try:
		return get_jenv().from_string(template).render(context)
	except TemplateError:
		frappe.throw(
			title="Jinja Template Error",
			msg=f"<pre>{template}</pre><pre>{frappe.get_traceback()}</pre>",
		)


def guess_is_path(template):
	# a single line ending with a known extension is probably a path
	if "\n" not in template and "." in template:
		extn = template.rsplit(".")[-1]
		if extn in ("html", "css", "scss", "py", "md", "json", "js", "xml", "txt"):
			return True
	return False


def _installed_apps():
	import frappe

	for getter in ("get_installed_apps", "get_all_apps"):
		fn = getattr(frappe, getter, None)
		if fn is not None:
			try:
				return list(fn())
			except TypeError:
				continue
	return []


def get_jloader():
	import frappe

	if not getattr(frappe.local, "jloader", None):
		from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader

		apps = frappe.get_hooks("template_apps") if hasattr(frappe, "get_hooks") else []
		if not apps:
			apps = list(reversed(_installed_apps()))

		if "frappe" not in apps:
			apps.append("frappe")

		frappe.local.jloader = ChoiceLoader(
			# search for something like app/templates/...
			[PrefixLoader({app: PackageLoader(app, ".") for app in apps})]
			# search for something like templates/...
			+ [PackageLoader(app, ".") for app in apps]
		)

	return frappe.local.jloader


def set_filters(jenv):
	import frappe
	from frappe.utils import cint, cstr, flt

	jenv.filters.update(
		{
			"json": frappe.as_json,
			"len": len,
			"int": cint,
			"str": cstr,
			"flt": flt,
		}
	)


def get_jinja_hooks():
	"""(methods, filters) from the apps' `jinja` hooks"""
	import frappe

	if not getattr(frappe.local, "site", None) or not hasattr(frappe, "get_hooks"):
		return (None, None)

	from inspect import getmembers, isfunction
	from types import FunctionType, ModuleType

	def get_obj_dict_from_paths(object_paths):
		out = {}
		for obj_path in object_paths:
			try:
				obj = frappe.get_module(obj_path)
			except ModuleNotFoundError:
				obj = frappe.get_attr(obj_path)

			if isinstance(obj, ModuleType):
				for function_name, function in getmembers(obj, isfunction):
					out[function_name] = function
			elif isinstance(obj, FunctionType):
				out[obj.__name__] = obj
		return out

	values = frappe.get_hooks("jinja")
	if not values:
		return (None, None)
	methods, filters = values.get("methods", []), values.get("filters", [])
	return (get_obj_dict_from_paths(methods), get_obj_dict_from_paths(filters))


UNSAFE_ATTRIBUTES = {
	# Generator Attributes
	"gi_frame",
	"gi_code",
	"gi_yieldfrom",
	# Coroutine Attributes
	"cr_frame",
	"cr_code",
	"cr_origin",
	"cr_await",
	# Async Generator Attributes
	"ag_code",
	"ag_frame",
	# Traceback Attributes
	"tb_frame",
	"tb_next",
	# Format Attributes
	"format",
	"format_map",
	# Frame attributes
	"f_back",
	"f_builtins",
	"f_code",
	"f_globals",
	"f_locals",
	"f_trace",
}

# frappe.utils.data names that v15 exposes as frappe.utils in templates (safe_exec.VALID_UTILS)
VALID_UTILS = (
	"DATE_FORMAT",
	"TIME_FORMAT",
	"DATETIME_FORMAT",
	"is_invalid_date_string",
	"getdate",
	"get_datetime",
	"to_timedelta",
	"get_timedelta",
	"add_to_date",
	"add_days",
	"add_months",
	"add_years",
	"date_diff",
	"month_diff",
	"time_diff",
	"time_diff_in_seconds",
	"time_diff_in_hours",
	"now_datetime",
	"get_timestamp",
	"get_eta",
	"get_system_timezone",
	"convert_utc_to_system_timezone",
	"now",
	"nowdate",
	"today",
	"nowtime",
	"get_first_day",
	"get_quarter_start",
	"get_first_day_of_week",
	"get_year_start",
	"get_last_day_of_week",
	"get_last_day",
	"get_time",
	"get_datetime_str",
	"get_date_str",
	"get_time_str",
	"get_user_date_format",
	"get_user_time_format",
	"format_date",
	"format_time",
	"format_datetime",
	"format_duration",
	"get_weekdays",
	"get_weekday",
	"get_month",
	"global_date_format",
	"has_common",
	"flt",
	"cint",
	"floor",
	"ceil",
	"cstr",
	"rounded",
	"remainder",
	"safe_div",
	"round_based_on_smallest_currency_fraction",
	"encode",
	"parse_val",
	"fmt_money",
	"get_number_format_info",
	"money_in_words",
	"in_words",
	"is_html",
	"is_image",
	"strip_html",
	"escape_html",
	"pretty_date",
	"comma_or",
	"comma_and",
	"comma_sep",
	"new_line_sep",
	"filter_strip_join",
	"get_url",
	"get_host_name_from_request",
	"url_contains_port",
	"get_host_name",
	"get_link_to_form",
	"get_link_to_report",
	"get_absolute_url",
	"get_url_to_form",
	"get_url_to_list",
	"get_url_to_report",
	"get_url_to_report_with_filters",
	"evaluate_filters",
	"compare",
	"get_filter",
	"make_filter_tuple",
	"make_filter_dict",
	"scrub_urls",
	"expand_relative_urls",
	"quoted",
	"quote_urls",
	"unique",
	"strip",
	"to_markdown",
	"md_to_html",
	"markdown",
	"is_subset",
	"generate_hash",
	"formatdate",
	"get_user_info_for_avatar",
	"get_abbr",
	"get_month",
)


class NamespaceDict(dict):
	"""Attribute access to a dict; unknown names raise AttributeError when called (as v15)."""

	def __getattr__(self, key):
		ret = self.get(key)
		if (not ret and key.startswith("__")) or (key not in self):

			def default_function(*args, **kwargs):
				raise AttributeError(f"module has no attribute '{key}'")

			return default_function
		return ret

	def __setattr__(self, key, value):
		self[key] = value


def _get(obj, name):
	return getattr(obj, name, None) if obj is not None else None


def get_safe_globals():
	"""The part of v15's safe_exec.get_safe_globals that templates use."""
	import json

	import frappe
	import frappe.utils
	import frappe.utils.data

	datautils = NamespaceDict()
	for key, obj in frappe.utils.data.__dict__.items():
		if key in VALID_UTILS:
			datautils[key] = obj

	db = getattr(frappe.local, "db", None)
	if db is not None and hasattr(db, "get_default"):
		date_format = db.get_default("date_format") or "yyyy-mm-dd"
		time_format = db.get_default("time_format") or "HH:mm:ss"
	else:
		date_format = frappe.utils.data.get_user_date_format()
		time_format = frappe.utils.data.get_user_time_format()

	session = getattr(frappe.local, "session", None)
	user = session.user if session else "Guest"
	form_dict = getattr(frappe.local, "form_dict", None) or {}

	from frappe.utils.formatters import format_value

	db_ns = NamespaceDict()
	if db is not None:
		for name in (
			"get_value",
			"set_value",
			"get_single_value",
			"get_default",
			"exists",
			"count",
			"escape",
			"commit",
			"rollback",
			"after_commit",
			"before_commit",
			"after_rollback",
		):
			if hasattr(db, name):
				db_ns[name] = getattr(db, name)
		db_ns["get_list"] = _get(frappe, "get_list")
		db_ns["get_all"] = _get(frappe, "get_all")

	frappe_ns = NamespaceDict(
		flags=frappe._dict(),
		format=format_value,
		format_value=format_value,
		date_format=date_format,
		time_format=time_format,
		format_date=frappe.utils.data.global_date_format,
		form_dict=form_dict,
		bold=lambda text: f"<strong>{text}</strong>",
		utils=datautils,
		get_url=frappe.utils.get_url,
		user=user,
		get_fullname=frappe.utils.get_fullname,
		get_gravatar=frappe.utils.get_gravatar_url,
		full_name=getattr(getattr(session, "data", None), "full_name", None) if session else "Guest",
		session=frappe._dict(user=user, csrf_token=""),
		db=db_ns,
		lang=getattr(frappe.local, "lang", "en"),
	)
	for name in (
		"get_meta",
		"new_doc",
		"get_doc",
		"get_cached_doc",
		"get_list",
		"get_all",
		"get_system_settings",
		"render_template",
		"msgprint",
		"throw",
		"sendmail",
		"log_error",
		"get_hooks",
		"enqueue",
	):
		fn = _get(frappe, name)
		if fn is not None:
			frappe_ns[name] = fn

	exceptions = getattr(frappe, "exceptions", None)
	if exceptions is not None:
		for key, obj in vars(exceptions).items():
			if not key.startswith("_") and isinstance(obj, type) and issubclass(obj, Exception):
				frappe_ns[key] = obj

	out = NamespaceDict(
		json=NamespaceDict(loads=json.loads, dumps=json.dumps),
		as_json=_get(frappe, "as_json"),
		dict=dict,
		_dict=frappe._dict,
		args=form_dict,
		frappe=frappe_ns,
		style=frappe._dict(border_color="#d1d8dd"),
		_=frappe._,
		scrub=_get(frappe, "scrub"),
		guess_mimetype=__import__("mimetypes").guess_type,
		dev_server=getattr(frappe.local, "dev_server", False),
	)
	out.update(
		{
			"abs": abs,
			"all": all,
			"any": any,
			"bool": bool,
			"dict": dict,
			"enumerate": enumerate,
			"isinstance": isinstance,
			"issubclass": issubclass,
			"list": list,
			"max": max,
			"min": min,
			"range": range,
			"set": set,
			"sorted": sorted,
			"sum": sum,
			"tuple": tuple,
		}
	)
	return out
