"""Fixtures shared by both ways of running the suite.

Standalone (default): `tests/testbed` provides `frappe`; a throwaway site is installed into
MariaDB under `tests/.sites/` at the start of the session, workers are real RQ processes.

In a bench: `MYAPP_TEST_SITE=<site>` (run from `frappe-bench/sites` with the bench's python, or
set `MYAPP_SITES_PATH`) uses the real `frappe` and that site, which must be a throwaway test site:
the fixtures delete the rows the tests create, and all RQ keys of its queue Redis.
"""

import datetime
import json
import os
import threading
import time

import pytest
from support import (  # noqa: F401  (imported first: it puts the testbed on sys.path)
	BENCH_SITE,
	_site_name,
	_sites_path,
	connect_site,
	connected_to,
	drain_queues,
	install_test_site,
	pending_jobs,
	start_worker,
	stop_workers,
)

# isort: split
import frappe

# Tables whose rows tests create; emptied before each test (only these: a bench site keeps the rest).
DATA_TABLES = (
	"Error Log", "Activity Log", "Email Queue", "Email Queue Recipient", "Email Unsubscribe", "Version", "Deleted Document",
	"Scheduled Job Log", "Notification Log", "User Permission", "ToDo", "Comment",
	"Customer", "Sales Order", "Sales Order Item", "Sales Invoice", "Sales Invoice Item", "Contract", "Issue",
	"CSV Import Log", "CSV Import Log Failed Row", "CSV Import Chunk", "Expiry Notification Log", "Invoice Processing Run", "Sync Log",
	"Expiry Rule", "Failed Job",
)  # fmt: skip
TEST_USER_DOMAIN = "@myapp.test"


@pytest.fixture(scope="session")
def sites_path():
	return _sites_path()


@pytest.fixture(scope="session")
def site(sites_path):
	"""The test site, installed fresh (testbed) or connected (bench), with myapp installed."""
	install_test_site()
	yield _site_name()
	if getattr(frappe.local, "db", None):
		frappe.db.rollback()
	frappe.destroy()


_sites_without_erpnext = {}


NO_ERPNEXT = "-noerp"


@pytest.fixture
def site_without_erpnext(site):
	"""For the test's body, this process is connected to a second testbed site that has frappe and
	myapp but not ERPNext (installed once per session, in its own sites folder); the main site is
	connected again afterwards."""
	if BENCH_SITE:
		pytest.skip("needs a second site without ERPNext; the testbed installs one, a bench has none")
	name, sites_path = _install_site_without_erpnext()
	with connected_to(name, sites_path):
		yield name


def _install_site_without_erpnext() -> tuple[str, str]:
	"""The testbed's second site (installed once per session, in its own sites folder); this
	process stays connected to the test site."""
	name, sites_path = _site_name(NO_ERPNEXT), _sites_path(NO_ERPNEXT)
	if name not in _sites_without_erpnext:
		install_test_site(apps=("frappe", "myapp"), variant=NO_ERPNEXT)
		_sites_without_erpnext[name] = sites_path
		connect_site()
	return name, sites_path


@pytest.fixture
def other_site(site):
	"""(name, sites path) of a second site on the same queues, for tests of what one site's jobs do
	to another's. The testbed's second site; on a bench, the site named by `MYAPP_TEST_OTHER_SITE`
	(another throwaway site with myapp installed: the tests write to it too)."""
	if BENCH_SITE:
		name = os.environ.get("MYAPP_TEST_OTHER_SITE")
		if not name or name == BENCH_SITE:
			pytest.skip("set MYAPP_TEST_OTHER_SITE to a second throwaway site of this bench")
		return name, _sites_path()
	return _install_site_without_erpnext()


def _flush_queues():
	from frappe.utils.background_jobs import get_redis_conn

	conn = get_redis_conn()
	# with the queued jobs go their myapp.utils.jobs claims (a flushed job's claim is stale only later)
	keys = conn.keys("rq:*") + conn.keys("myapp:job-claim:*")
	if keys:
		conn.delete(*keys)


@pytest.fixture(autouse=True)
def clean_site(request):
	"""Each test starts as Administrator on empty data tables and empty queues."""
	if "no_site" in request.keywords:
		yield
		return
	site = request.getfixturevalue("site")
	if not getattr(frappe.local, "db", None) or frappe.local.site != site:
		connect_site()
	frappe.db.rollback()
	frappe.set_user("Administrator")
	tables = frappe.db.get_tables()
	for doctype in DATA_TABLES:
		if f"tab{doctype}" in tables:
			frappe.db.sql(f"delete from `tab{doctype}`")
	frappe.db.sql("delete from `tabFile` where is_folder=0")
	for user in frappe.get_all("User", filters={"name": ("like", f"%{TEST_USER_DOMAIN}")}, pluck="name"):
		frappe.db.sql("delete from `tabHas Role` where parent=%s", user)
		frappe.db.sql("delete from `tabUser` where name=%s", user)
	reset_settings()
	frappe.db.commit()
	_flush_queues()
	frappe.flags.in_test = False
	yield
	stop_workers()
	frappe.db.rollback()
	frappe.set_user("Administrator")


@pytest.fixture
def erpnext():
	"""For tests on ERPNext DocTypes: skipped on a bench site without ERPNext (the testbed has it)."""
	if "erpnext" not in frappe.get_installed_apps():
		pytest.skip("ERPNext is not installed on this site")
	if BENCH_SITE and not frappe.db.get_single_value("System Settings", "setup_complete"):
		# the wizard makes what ERPNext's documents need: a Company with its warehouses and
		# accounts, the Customer Group / Territory / Item Group trees, Warehouse Type "Transit"
		pytest.skip("complete ERPNext's setup wizard on this site first")


def reset_settings():
	"""The app's settings Singles back to their install defaults."""
	from myapp.install import APP_SETTINGS, create_default_settings

	for doctype in APP_SETTINGS:
		frappe.db.sql("delete from `tabSingles` where doctype=%s", doctype)
	create_default_settings()


@pytest.fixture
def drain():
	return drain_queues


# realtime events and emails
class RealtimeEvents:
	"""Collects what `publish_realtime` publishes on Redis' `events` channel for this site."""

	def __init__(self, site):
		from frappe.utils.background_jobs import get_redis_connection_without_auth

		self.site = site
		self.messages = []
		self._pubsub = get_redis_connection_without_auth().pubsub(ignore_subscribe_messages=True)
		self._pubsub.subscribe("events")
		self._stop = threading.Event()
		self._thread = threading.Thread(target=self._listen, daemon=True)
		self._thread.start()

	def _listen(self):
		while not self._stop.is_set():
			message = self._pubsub.get_message(timeout=0.1)
			if message and message.get("type") == "message":
				data = json.loads(message["data"])
				if data.get("namespace") == self.site:
					self.messages.append(data)

	def __call__(self, event=None, settle=0.3):
		time.sleep(settle)
		return [m for m in self.messages if event is None or m["event"] == event]

	def close(self):
		self._stop.set()
		self._thread.join(timeout=2)
		self._pubsub.close()


@pytest.fixture
def realtime_events(site):
	events = RealtimeEvents(site)
	yield events
	events.close()


def queued_emails(**filters):
	frappe.db.commit()
	rows = frappe.get_all(
		"Email Queue",
		filters=filters,
		fields=["name", "message", "reference_doctype", "reference_name", "status"],
		order_by="creation asc",
	)  # noqa: E501
	for row in rows:
		row.recipients = frappe.get_all(
			"Email Queue Recipient", filters={"parent": row.name}, pluck="recipient"
		)
	return rows


@pytest.fixture
def emails():
	return queued_emails


# users
def make_user(email, roles=(), first_name=None, enabled=1):
	"""A System User with `roles`; its name ends with TEST_USER_DOMAIN so each test starts without it."""
	assert email.endswith(TEST_USER_DOMAIN), email
	user = frappe.get_doc(
		{
			"doctype": "User",
			"email": email,
			"first_name": first_name or email.split("@")[0],
			"enabled": enabled,
			"user_type": "System User",
			"send_welcome_email": 0,
			"roles": [{"role": role} for role in roles],
		}
	)
	user.insert(ignore_permissions=True)
	return user.name


def addresses_of_test_users(recipients):
	"""The recipients this test made (its users' addresses end with TEST_USER_DOMAIN): a real site
	has people of its own, e.g. the user its setup wizard created, who holds every role."""
	return sorted(address for address in recipients if address.endswith(TEST_USER_DOMAIN))


@pytest.fixture
def as_user():
	"""`with as_user(name):` runs the block as that user, then back to Administrator."""
	from contextlib import contextmanager

	@contextmanager
	def switch(user):
		frappe.set_user(user)
		try:
			yield
		finally:
			frappe.set_user("Administrator")

	return switch


def call_endpoint(method, http_method="POST", user=None, **kwargs):
	"""Call a whitelisted method the way `/api/method/<method>` does: whitelist, guest and HTTP verb checks."""
	import frappe.handler

	previous_user = frappe.session.user
	if user:
		frappe.set_user(user)
	frappe.local.request = frappe._dict(method=http_method)
	frappe.local.form_dict = frappe._dict(kwargs)
	try:
		return frappe.handler.execute_cmd(method)
	finally:
		frappe.local.request = None
		frappe.local.form_dict = frappe._dict()
		frappe.set_user(previous_user)


def run_scheduler(at):
	"""One scheduler tick as if the time were `at`: enqueue every Scheduled Job Type due then."""
	enqueued = []
	for name in frappe.get_all("Scheduled Job Type", filters={"stopped": 0}, pluck="name"):
		job_type = frappe.get_doc("Scheduled Job Type", name)
		if job_type.is_event_due(at) and job_type.enqueue(force=True):
			enqueued.append(job_type.method)
	frappe.db.commit()
	return enqueued


def days_ago(days, base=None):
	base = base or datetime.datetime.now()
	return base - datetime.timedelta(days=days)
