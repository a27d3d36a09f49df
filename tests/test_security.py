"""Issue 6, security: every whitelisted endpoint's permissions and input checks, HTML escaping in
emails and notifications, and no SQL built by string formatting of user input.

The endpoint table (`ENDPOINTS`) must have a row for every function that `myapp.api` whitelists:
a new endpoint without one fails `test_every_whitelisted_endpoint_has_a_row`.
"""

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

import frappe
import pytest
from conftest import call_endpoint, make_user, queued_emails
from frappe.utils import now
from mail_content import html_part
from support import pending_jobs
from user_jobs_helpers import customer_masters, make_customer, upload_csv

import myapp.api

APP = Path(myapp.api.__file__).resolve().parent
ROLELESS = "no.roles@myapp.test"
IMPORT_HEADER = ["customer_name", "customer_group", "territory", "customer_type"]


# --- what each endpoint needs ---------------------------------------------------------------------


def failed_sales_order():
	from test_sync import make_order

	name = make_order()
	frappe.db.set_value("Sales Order", name, "custom_sync_status", "Failed", update_modified=False)
	frappe.db.commit()
	return name


def draft_invoices(count=3):
	timestamp = now()
	fields = ["name", "creation", "modified", "owner", "modified_by", "docstatus", "customer", "posting_date"]
	fields += ["status", "grand_total", "outstanding_amount", "custom_processed"]
	rows = [
		(f"SEC-SINV-{i:03d}", timestamp, timestamp, "Administrator", "Administrator", 0, "Test Customer")
		+ (frappe.utils.nowdate(), "Draft", 100, 100, 0)
		for i in range(count)
	]
	frappe.db.bulk_insert("Sales Invoice", fields, rows)
	frappe.db.commit()


def import_file(owner, rows=None):
	customer_masters()
	rows = rows or [IMPORT_HEADER, ["Security Import 1", "Retail", "Europe", "Company"]]
	return upload_csv(f"security-{frappe.generate_hash(length=6)}.csv", rows, owner=owner)


def import_log(owner, with_failed_row=False):
	from myapp.importer import FAILED_ROW_DOCTYPE, LOG_DOCTYPE, create_import_log

	file_url = import_file(owner)
	frappe.set_user(owner)
	try:
		log = create_import_log(file_url, "Customer")
	finally:
		frappe.set_user("Administrator")
	if with_failed_row:
		frappe.get_doc(
			{
				"doctype": FAILED_ROW_DOCTYPE,
				"parent": log.name,
				"parenttype": LOG_DOCTYPE,
				"parentfield": "failed_rows",
				"idx": 2,
				"row_number": 2,
				"error": "test failure",
			}
		).db_insert()
		frappe.db.set_value(
			LOG_DOCTYPE, log.name, {"status": "Completed with Errors", "error_count": 1, "total_rows": 1}
		)
	frappe.db.commit()
	return log.name


def customers():
	customer_masters()
	make_customer(f"Security Customer {frappe.generate_hash(length=6)}")
	frappe.db.commit()


def failed_job():
	"""A Failed Job whose arguments are stored in full (RQ holds no copy): a retry can be queued."""
	from myapp.job_center import Failure, record_failure

	name = record_failure(
		Failure(
			method="myapp.tasks.daily_cleanup",
			job_id=f"{frappe.local.site}::security-{frappe.generate_hash(length=6)}",
			site=frappe.local.site,
			queue="default",
			user="Administrator",
			exception_type="ValueError",
			failed_at=frappe.utils.now_datetime(),
		)
	)
	frappe.db.commit()
	return name


@dataclass
class Endpoint:
	roles: tuple  # a user with these roles may call it
	setup: object  # setup(permitted_user) -> the arguments of a good request
	enqueues: bool  # a good request queues a job
	# (arguments that replace the good ones, why they are bad); each must be a clear error
	bad: list = field(default_factory=list)
	http_methods: tuple = ("POST",)


BAD_FILTERS = [
	({"filters": "{not json"}, "filters that are not JSON"),
	({"filters": '{"no_such_field": 1}'}, "an unknown filter field"),
	({"filters": '[["name` = 1; drop table `tabCustomer", "=", "x"]]'}, "SQL in a filter field name"),
	({"filters": '[["Sales Order", "name", "=", "x"]]'}, "a filter on another DocType"),
	({"filters": '"just a string"'}, "filters that are neither object nor list"),
	({"filters": '[["name"]]'}, "a filter without operator and value"),
]

ENDPOINTS = {
	"myapp.api.retry_order_sync": Endpoint(
		roles=("Sales Manager",),
		setup=lambda user: {"name": failed_sales_order()},
		enqueues=True,
		bad=[
			({"name": "NO-SUCH-ORDER"}, "an unknown order"),
			({"name": "x' or '1'='1"}, "SQL in the name"),
		],
	),
	"myapp.api.retry_failed_syncs": Endpoint(
		roles=("System Manager",),
		setup=lambda user: (failed_sales_order(), {})[1],
		enqueues=True,
	),
	"myapp.api.start_invoice_processing": Endpoint(
		roles=("Accounts Manager",),
		setup=lambda user: (draft_invoices(), {"batch_size": 2})[1],
		enqueues=True,
		bad=[
			({"batch_size": -5}, "a negative batch size"),
			({"batch_size": 10**7}, "a batch size above the maximum"),
			({"batch_size": "-1"}, "a negative batch size as text"),
			({"batch_size": "many"}, "a batch size that is not a number (v15 validates annotated types)"),
		],
	),
	"myapp.api.start_customer_export": Endpoint(
		roles=("Sales Master Manager",),  # read and export on Customer
		setup=lambda user: (customers(), {"filters": '{"customer_group": "Retail"}'})[1],
		enqueues=True,
		bad=BAD_FILTERS,
	),
	"myapp.api.start_export": Endpoint(
		roles=("Sales Master Manager",),  # read and export on Customer
		setup=lambda user: (customers(), {"doctype": "Customer", "fields": '["customer_name"]'})[1],
		enqueues=True,
		bad=[
			({"doctype": "No Such DocType"}, "an unknown DocType"),
			({"doctype": "Customer`; drop table `tabCustomer"}, "SQL in the DocType"),
			({"doctype": "Sync Settings"}, "a Single"),
			({"doctype": "Sales Order Item"}, "a child table"),
			({"fields": '["no_such_field"]'}, "an unknown field"),
			({"fields": '["name`, (select 1) as `x"]'}, "SQL in a field name"),
			({"fields": "[not json"}, "fields that are not JSON"),
			*BAD_FILTERS,
		],
	),
	"myapp.api.generate_report": Endpoint(
		roles=("Sales Master Manager",),  # read and export on Customer
		setup=lambda user: (customers(), {"report_type": "customer_list"})[1],
		enqueues=True,
		bad=[
			({"report_type": "no_such_report"}, "an unknown report"),
			({"report_type": "<script>alert(1)</script>"}, "HTML as the report"),
			({"params": "{not json"}, "params that are not JSON"),
			({"params": '{"filters": {"no_such_field": 1}}'}, "an unknown filter field in params"),
		],
	),
	"myapp.api.start_csv_import": Endpoint(
		roles=("Sales Master Manager",),
		setup=lambda user: {"file_url": import_file(user), "doctype": "Customer"},
		enqueues=True,
		bad=[
			({"file_url": "/private/files/no-such-file.csv"}, "an unknown file"),
			({"file_url": ""}, "no file"),
			({"doctype": "No Such DocType"}, "an unknown DocType"),
			({"doctype": "Sync Settings"}, "a Single"),
			({"doctype": "Sales Order Item"}, "a child table"),
		],
	),
	"myapp.api.start_import": Endpoint(
		roles=("Sales Master Manager",),
		setup=lambda user: {"import_log": import_log(user)},
		enqueues=True,
		bad=[
			({"import_log": "NO-SUCH-LOG"}, "an unknown log"),
			({"retry_failed_rows": 1}, "a retry of a log without failed rows"),
		],
	),
	"myapp.api.download_failed_rows": Endpoint(
		roles=("Sales Master Manager",),
		setup=lambda user: {"import_log": import_log(user, with_failed_row=True)},
		enqueues=False,
		bad=[({"import_log": "NO-SUCH-LOG"}, "an unknown log")],
	),
	"myapp.api.retry_failed_job": Endpoint(
		roles=("System Manager",),
		setup=lambda user: {"name": failed_job()},
		enqueues=True,
		bad=[
			({"name": "NO-SUCH-JOB"}, "an unknown Failed Job"),
			({"arguments": "{not json"}, "edited arguments that are not JSON"),
			({"arguments": "[1, 2]"}, "edited arguments that are not an object"),
		],
	),
	"myapp.api.retry_failed_jobs": Endpoint(
		roles=("System Manager",),
		setup=lambda user: {"names": f'["{failed_job()}"]'},
		enqueues=True,
		bad=[
			({"names": "{not json"}, "names that are not JSON"),
			({"names": '"one name"'}, "names that are not a list"),
		],
	),
	"myapp.api.failed_scheduled_jobs_card": Endpoint(
		roles=("System Manager",),
		setup=lambda user: {},
		enqueues=False,
		http_methods=("GET", "POST"),
	),
	"myapp.api.failed_jobs_by_method_chart": Endpoint(
		roles=("System Manager",),
		setup=lambda user: {},
		enqueues=False,
		http_methods=("GET", "POST"),
	),
	"myapp.api.sales_orders_awaiting_sync_card": Endpoint(
		roles=("Sales User",),
		setup=lambda user: {},
		enqueues=False,
		http_methods=("GET", "POST"),
	),
}


def whitelisted_endpoints():
	return sorted(
		f"{fn.__module__}.{fn.__name__}" for fn in frappe.whitelisted if fn.__module__.startswith("myapp")
	)


def nothing_queued():
	"""No job in any queue and no job claim (what a refused request must leave)."""
	from frappe.utils.background_jobs import get_redis_conn

	frappe.db.commit()  # a job enqueued after commit would show now
	claims = get_redis_conn().keys(f"myapp:job-claim:{frappe.local.site}::*")
	return pending_jobs() == 0 and not claims


def refused(method, user, http_method="POST", **kwargs):
	"""The exception the endpoint raised; the transaction is rolled back as a failed request's is."""
	with pytest.raises(Exception) as caught:
		call_endpoint(method, http_method=http_method, user=user, **kwargs)
	frappe.db.rollback()
	return caught.value


def assert_clear_error(error, why):
	from frappe.exceptions import FrappeTypeError  # v15's answer to an argument of the wrong type

	assert isinstance(error, frappe.ValidationError | frappe.PermissionError | FrappeTypeError), (
		f"{why}: {type(error).__name__}: {error}"
	)
	message = str(error)
	assert message.strip() and "Traceback" not in message, f"{why}: unclear message {message!r}"


@pytest.fixture
def roleless():
	user = make_user(ROLELESS, [])
	frappe.db.commit()
	return user


def permitted(endpoint):
	user = make_user(f"permitted.{frappe.generate_hash(length=6)}@myapp.test", list(endpoint.roles))
	frappe.db.commit()
	return user


def import_logs():
	frappe.db.rollback()
	return frappe.db.count("CSV Import Log")


# --- the table is complete -----------------------------------------------------------------------


def test_every_whitelisted_endpoint_has_a_row():
	found = whitelisted_endpoints()
	assert found, "myapp.api whitelists nothing?"
	missing = sorted(set(found) - set(ENDPOINTS))
	assert not missing, f"add a row to ENDPOINTS in tests/test_security.py for {missing}"
	assert sorted(set(ENDPOINTS) - set(found)) == [], "ENDPOINTS lists a method that is not whitelisted"


def test_endpoints_live_only_in_myapp_api():
	# ARCHITECTURE: api.py holds every whitelisted endpoint, so the table above sees them all (a
	# Dashboard Chart Source's script names its method, here one of myapp.api)
	elsewhere = [
		str(path.relative_to(APP.parent))
		for path in APP.rglob("*.py")
		if path.name != "api.py" and "frappe.whitelist" in path.read_text()
	]
	assert elsewhere == []


def test_no_endpoint_allows_guest():
	assert not [fn for fn in frappe.guest_methods if fn.__module__.startswith("myapp")]


# --- permissions ---------------------------------------------------------------------------------


@pytest.mark.parametrize("method", sorted(ENDPOINTS))
def test_guest_and_a_user_without_the_role_are_refused_and_nothing_is_queued(method, roleless, erpnext):
	endpoint = ENDPOINTS[method]
	owner = permitted(endpoint)
	kwargs = endpoint.setup(owner)
	logs_before = import_logs()
	assert nothing_queued()

	error = refused(method, "Guest", **kwargs)
	assert isinstance(error, frappe.PermissionError), f"Guest: {type(error).__name__}: {error}"
	assert nothing_queued()

	error = refused(method, roleless, **kwargs)
	assert isinstance(error, frappe.PermissionError), f"no role: {type(error).__name__}: {error}"
	assert nothing_queued()
	assert import_logs() == logs_before


@pytest.mark.parametrize("method", sorted(ENDPOINTS))
def test_a_permitted_user_is_served_with_the_allowed_http_methods_only(method, erpnext):
	endpoint = ENDPOINTS[method]
	user = permitted(endpoint)
	kwargs = endpoint.setup(user)

	for http_method in {"GET", "POST", "PUT", "DELETE"} - set(endpoint.http_methods):
		error = refused(method, user, http_method=http_method, **kwargs)
		assert isinstance(error, frappe.PermissionError), f"{http_method}: {error}"
		assert nothing_queued()

	result = call_endpoint(method, http_method=endpoint.http_methods[-1], user=user, **kwargs)
	frappe.db.commit()  # as the request would: jobs enqueued after commit are queued now
	assert result is not None
	if endpoint.enqueues:
		assert pending_jobs() >= 1, f"{method} answered {result} but queued nothing"


def bad_cases():
	for method, endpoint in sorted(ENDPOINTS.items()):
		for overrides, why in endpoint.bad:
			yield pytest.param(method, overrides, why, id=f"{method.rsplit('.', 1)[1]}: {why}")


@pytest.mark.parametrize("method, overrides, why", list(bad_cases()))
def test_a_bad_argument_is_a_clear_error_and_nothing_is_queued(method, overrides, why, erpnext):
	endpoint = ENDPOINTS[method]
	user = permitted(endpoint)
	kwargs = {**endpoint.setup(user), **overrides}
	logs_before = import_logs()
	assert nothing_queued()

	assert_clear_error(refused(method, user, **kwargs), why)
	assert nothing_queued()
	assert import_logs() == logs_before


def test_every_endpoint_argument_has_a_bad_value_case():
	"""Each argument an endpoint takes is tried with a bad value above (or listed here, with why not)."""
	import inspect

	# arguments that cannot be bad: any value is read as a flag, or is ignored
	no_bad_value = {
		("myapp.api.start_csv_import", "update_existing"): "read with sbool/cint: any value is a yes or a no",
		(
			"myapp.api.failed_scheduled_jobs_card",
			"filters",
		): "the card has no filters; the Desk's are ignored",
		(
			"myapp.api.sales_orders_awaiting_sync_card",
			"filters",
		): "the card has no filters; the Desk's are ignored",
	}
	untried = []
	for method, endpoint in ENDPOINTS.items():
		fn = frappe.get_attr(method)
		tried = {name for overrides, _why in endpoint.bad for name in overrides}
		for name in inspect.signature(fn).parameters:
			if name not in tried and (method, name) not in no_bad_value:
				untried.append(f"{method}({name})")
	assert untried == []


# --- HTML in names and cells is escaped in every email and notification ------------------------------

PAYLOAD = '<img src=x onerror="alert(1)">'


def user_facing_texts(realtime_events):
	"""Every email (subject and HTML), Notification Log and Desk message this site produced."""
	texts = []
	# (an email's Subject is a plain-text header, shown as is: escaping it would show "&lt;")
	for row in queued_emails():
		texts.append(html_part(row.message))
	for row in frappe.get_all("Notification Log", fields=["subject", "email_content"]):
		texts += [row.subject or "", row.email_content or ""]
	for event in realtime_events():
		message = event["message"]
		texts.append(str(message.get("message", "")) if isinstance(message, dict) else str(message))
	return texts


def assert_escaped(texts, minimum):
	assert len(texts) >= minimum, texts
	raw = [text for text in texts if "<img" in text]
	assert raw == [], f"unescaped HTML reached a user: {raw[:2]}"


def test_html_in_csv_cells_and_file_names_is_escaped(erpnext, drain, realtime_events):
	user = make_user("escape.importer@myapp.test", ["Sales Master Manager"])
	customer_masters()
	rows = [IMPORT_HEADER, [f"Named {PAYLOAD}", "Retail", "Europe", "Company"]]  # v15: no < > in names
	rows.append(["Bad group", PAYLOAD, "Europe", "Company"])  # an unknown Customer Group, named in the error
	rows.append(["Plain", "Retail", "Europe", "Company"])
	file_url = upload_csv(f"{PAYLOAD}.csv", rows, owner=user)
	call_endpoint("myapp.api.start_csv_import", user=user, file_url=file_url, doctype="Customer")
	drain()
	# a header cell with HTML ends the import with an Error whose message names the column
	bad_header = upload_csv("header.csv", [[PAYLOAD, "customer_group"], ["x", "Retail"]], owner=user)
	call_endpoint("myapp.api.start_csv_import", user=user, file_url=bad_header, doctype="Customer")
	drain()

	statuses = sorted(frappe.get_all("CSV Import Log", pluck="status"))
	assert statuses == ["Completed with Errors", "Error"]
	assert frappe.db.exists("Customer", "Plain")
	# v15 refuses a name with < or >: that row fails with its line, like any other bad row
	assert frappe.get_all("Customer", filters={"name": ("like", "%<%")}) == []
	failed = {
		row.row_number: row.error
		for row in frappe.get_all("CSV Import Log Failed Row", fields=["row_number", "error"])
	}
	assert sorted(failed) == [2, 3] and "<" in failed[2]
	assert_escaped(user_facing_texts(realtime_events), minimum=4)


def test_html_in_document_names_and_titles_is_escaped_in_reminders_and_reports(
	erpnext, drain, realtime_events
):
	from test_expiry import days, make_contract, make_rule

	user = make_user("escape.owner@myapp.test", ["Sales User", "Sales Master Manager"])
	customer_masters()
	make_rule(days_before="7")
	contract = make_contract(days(7), owner=user)
	# v15 refuses < and > in names and sanitises text on save, but HTML still reaches the database
	# around the ORM (a migration, SQL, an older version): it must never reach a user unescaped
	frappe.db.set_value("Contract", contract, "party_name", f"Party {PAYLOAD}", update_modified=False)
	report_customer = make_customer("Report customer")
	frappe.db.set_value(
		"Customer", report_customer, "customer_name", f"Report {PAYLOAD}", update_modified=False
	)
	frappe.db.commit()
	frappe.enqueue("myapp.expiry.check_expiring_documents")
	call_endpoint("myapp.api.generate_report", user=user, report_type="customer_list")
	call_endpoint("myapp.api.start_export", user=user, doctype="Customer")
	drain()

	assert frappe.db.count("Expiry Notification Log") == 1
	assert_escaped(user_facing_texts(realtime_events), minimum=4)


TEMPLATE_EXPRESSION = re.compile(r"{{(.*?)}}", re.S)
# numbers, not text: nothing to escape
NUMERIC_TEMPLATE_EXPRESSIONS = {
	"summary.new_orders",
	"summary.new_invoices",
	"data.new_orders",
	"data.new_customers",
	"data.open_issues",
	"frappe.utils.flt(item.total_qty, 3)",
	"days_left",
	"quiet_period_minutes",
}
TRANSLATED_FORMAT = re.compile(r'_\("[^"]*"\)\.format\((.*)\)', re.S)


def top_level_arguments(text):
	"""`a | e, (b or c) | e` -> ["a | e", "(b or c) | e"]"""
	arguments, depth, current = [], 0, ""
	for char in text:
		depth += char in "([{"
		depth -= char in ")]}"
		if char == "," and depth == 0:
			arguments.append(current.strip())
			current = ""
		else:
			current += char
	return [*arguments, current.strip()]


def is_safe_template_value(expression):
	if re.search(r"\|\s*(e|escape)\s*$", expression) or expression in NUMERIC_TEMPLATE_EXPRESSIONS:
		return True
	if re.fullmatch(r'_\("(?:[^"\\{}]|\\.)*"\)', expression):
		return True  # a fixed translated text
	translated = TRANSLATED_FORMAT.fullmatch(expression)
	return bool(translated) and all(
		is_safe_template_value(argument) for argument in top_level_arguments(translated.group(1))
	)


def test_every_template_value_is_escaped():
	"""Frappe v15 renders templates without autoescape: each value needs `| e`."""
	unescaped = []
	for path in sorted((APP / "templates").rglob("*.html")):
		for expression in TEMPLATE_EXPRESSION.findall(path.read_text()):
			expression = expression.strip()
			if not is_safe_template_value(expression):
				unescaped.append(f"{path.name}: {{{{ {expression} }}}}")
	assert unescaped == []


# --- no SQL built by string formatting of user input --------------------------------------------------

SQL_METHODS = ("sql", "sql_ddl", "multisql")

# Interpolations into SQL text that are not module constants, each with why it is safe.
# (file relative to myapp/, function, interpolated name)
ALLOWED_SQL_INTERPOLATIONS = {
	("utils/batching.py", "delete_where", "doctype"): (
		"a DocType name from the app's own code (maintenance.delete_older_than); checked below: "
		"every caller passes a string literal, never a request value"
	),
	("utils/batching.py", "delete_where", "condition"): (
		"the app's own SQL with %(name)s parameters for every value; checked below: every call "
		"site passes a string literal"
	),
	("install.py", "add_expiry_log_unique_index", "columns"): (
		"built from the module constant EXPIRY_LOG_UNIQUE_FIELDS, each name backquoted"
	),
	("export.py", "iterate_export_rows", "query"): (
		"the query frappe.get_list(run=False) built, with the user's permission conditions"
	),
	("export.py", "iterate_export_rows", "columns"): (
		"backquoted field names checked against the DocType's meta by validate_export_request"
	),
	("utils/batching.py", "claim_rows", "doctype"): (
		"a DocType name from the app's own code; checked below: every caller passes a module constant"
	),
	("utils/batching.py", "claim_rows", "condition"): (
		"the app's own SQL with %(name)s parameters for every value; checked below: every caller "
		"passes a module constant"
	),
	("utils/batching.py", "claim_rows", "order_by"): "checked below: a string literal at every call",
	("utils/batching.py", "claim_rows", "columns"): (
		"the `fields` argument; checked below: a string literal or a list of them at every call"
	),
	("install.py", "before_uninstall", "doctype"): "a key of the module constant CUSTOM_FIELDS",
	("install.py", "before_uninstall", "field"): "a field of the module constant CUSTOM_FIELDS",
}


def module_constants(tree):
	"""Names bound at module level (assignments and imports): constants, not request values."""
	names = set()
	for node in tree.body:
		if isinstance(node, ast.Assign):
			names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
		elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
			names.add(node.target.id)
		elif isinstance(node, ast.ImportFrom | ast.Import):
			names |= {alias.asname or alias.name for alias in node.names}
	return {name for name in names if name.isupper()}


def interpolated_names(node):
	"""The Name nodes whose values end up in the text of an f-string, .format() or % expression."""
	if isinstance(node, ast.JoinedStr):
		return [
			n for value in node.values if isinstance(value, ast.FormattedValue) for n in names_in(value.value)
		]
	if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
		return names_in(node.right) + interpolated_names(node.left)
	if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
		return names_in(node)
	if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
		return [n for arg in [*node.args, *(k.value for k in node.keywords)] for n in names_in(arg)]
	return []


def names_in(node):
	return [n for n in ast.walk(node) if isinstance(n, ast.Name)]


def sql_interpolations():
	"""(file, function, name, line) for each non-constant name interpolated into a query's text."""
	found = []
	for path in sorted(APP.rglob("*.py")):
		tree = ast.parse(path.read_text())
		constants = module_constants(tree)
		for function in ast.walk(tree):
			if not isinstance(function, ast.FunctionDef):
				continue
			assignments = {}
			for node in ast.walk(function):
				if isinstance(node, ast.Assign):
					for target in node.targets:
						if isinstance(target, ast.Name):
							assignments.setdefault(target.id, []).append(node.value)
			for call in ast.walk(function):
				if not (
					isinstance(call, ast.Call)
					and isinstance(call.func, ast.Attribute)
					and call.func.attr in SQL_METHODS
					and call.args
				):
					continue
				pending, seen = [call.args[0]], set()
				while pending:
					query = pending.pop()
					candidates = [query] if not isinstance(query, ast.Name) else assignments.get(query.id, [])
					if (
						isinstance(query, ast.Name)
						and query.id not in assignments
						and query.id not in constants
					):
						# a query handed in from elsewhere (a parameter)
						found.append((str(path.relative_to(APP)), function.name, query.id, call.lineno))
					for candidate in candidates:
						for name in interpolated_names(candidate):
							if name.id in constants or (name.id, function.name) in seen:
								continue
							seen.add((name.id, function.name))
							values = assignments.get(name.id)
							if values and all(isinstance(v, ast.Constant) for v in values):
								continue  # a local literal
							if values and any(interpolated_names(v) for v in values):
								pending.append(name)  # a local built by formatting: check its parts
								continue
							found.append((str(path.relative_to(APP)), function.name, name.id, call.lineno))
	return found


def test_no_sql_is_built_by_formatting_a_non_constant_value():
	found = sql_interpolations()
	unexpected = [
		f"myapp/{f}:{line} {fn}(): {name}"
		for f, fn, name, line in found
		if (f, fn, name) not in ALLOWED_SQL_INTERPOLATIONS
	]
	assert unexpected == [], "use %(name)s parameters, or validate and list it in ALLOWED_SQL_INTERPOLATIONS"
	# the list stays honest: an exception that no longer exists is removed from it
	stale = set(ALLOWED_SQL_INTERPOLATIONS) - {(f, fn, name) for f, fn, name, _line in found}
	assert stale == set()


def test_query_text_handed_to_sql_comes_from_frappe_or_literals():
	"""The checker catches what it is meant to (so a passing check means something)."""
	bad = ast.parse(
		"def f(value):\n\tq = f'select * from x where y = {value}'\n\tfrappe.db.sql(q)\n"
		"def g(value):\n\tfrappe.db.sql('select %s' % value)\n"
		"def h(value):\n\tfrappe.db.sql('select {0}'.format(value))\n"
	)
	names = []
	for function in bad.body:
		call = [
			n for n in ast.walk(function) if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "sql"
		][0]
		query = call.args[0]
		if isinstance(query, ast.Name):
			query = function.body[0].value
		names += [n.id for n in interpolated_names(query)]
	assert names == ["value", "value", "value"]


def calls_of(function_name):
	calls = []
	for path in APP.rglob("*.py"):
		for node in ast.walk(ast.parse(path.read_text())):
			if isinstance(node, ast.Call) and function_name in (
				getattr(node.func, "id", None),
				getattr(node.func, "attr", None),
			):
				calls.append(node)
	assert calls, function_name
	return calls


def argument(call, index, name):
	return (
		call.args[index] if len(call.args) > index else next(k.value for k in call.keywords if k.arg == name)
	)


def is_literal(node):
	return isinstance(node, ast.Constant) and isinstance(node.value, str)


def test_the_allowed_delete_where_interpolations_get_literals_from_their_callers():
	"""The allowed exceptions in utils/batching.py hold: the condition is always a string literal,
	and the DocType is a literal or delete_older_than's, whose callers all pass literals."""
	for call in calls_of("delete_where"):
		assert is_literal(argument(call, 1, "condition"))
		doctype = argument(call, 0, "doctype")
		assert is_literal(doctype) or (isinstance(doctype, ast.Name) and doctype.id == "doctype")
	for call in calls_of("delete_older_than"):
		assert is_literal(argument(call, 0, "doctype"))


def test_the_allowed_claim_rows_interpolations_get_constants_from_their_callers():
	"""The allowed exceptions of claim_rows (utils/batching.py) hold: DocType and condition are
	module constants (upper-case names) or literals, order_by and fields literals, at every call."""

	def constant(node):
		return is_literal(node) or (isinstance(node, ast.Name) and node.id.isupper())

	for call in calls_of("claim_rows"):
		assert constant(argument(call, 0, "doctype")) and constant(argument(call, 1, "condition"))
		for keyword in call.keywords:
			if keyword.arg == "order_by":
				assert is_literal(keyword.value)
			if keyword.arg == "fields":
				value = keyword.value
				assert is_literal(value) or (
					isinstance(value, ast.List) and all(is_literal(e) for e in value.elts)
				)
		assert len(call.args) <= 4  # order_by and fields by keyword only, so the checks above see them
