"""Desk flows in a real browser: Playwright (Python, sync API) driving Debian's chromium against a
running bench. Bench mode only; every test here skips, saying why, when something is missing.

What must run (see docs/testing.md#desk-in-a-real-browser):

- the test site of `MYAPP_TEST_SITE`, served over HTTP at `MYAPP_UI_URL` (e.g.
  `http://erp.localhost:8000`: `DEV_SERVER=1 bench serve --port 8000`, the host name must resolve
  to the bench and name the site);
- socket.io (`node apps/frappe/socketio.js` from the bench folder, or `bench start`), on the
  site's `socketio_port` (9000): the jobs' messages, progress and form reloads are realtime
  events. With `bench serve`, set `DEV_SERVER=1`, or the Desk looks for socket.io on port 8000;
- no worker of the bench's own (`bench worker`, `bench start`): each test starts one real worker
  (`tests/support.start_worker(burst=False)`) after the site is cleaned, and stops it after;
- playwright (python) in the bench env, and chromium at `MYAPP_UI_CHROMIUM` (default
  `/usr/bin/chromium`; no Playwright browser download is needed).

`MYAPP_UI_SHOTS=<folder>` saves PNG screenshots of each flow's key moments there
(`make ui-shots` writes them into docs/images/).
"""

import csv
import io
import os
import socket
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from support import BENCH_SITE, start_worker, stop_workers

UI_URL = (os.environ.get("MYAPP_UI_URL") or "").rstrip("/")
SHOTS = os.environ.get("MYAPP_UI_SHOTS")
CHROMIUM = os.environ.get("MYAPP_UI_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "Ui-Tests-Password-7319"
VIEWPORT = {"width": 1280, "height": 800}
# how long the browser waits for a job's result (a worker forks per job; imports take seconds)
JOB_TIMEOUT_MS = 60_000
FAILURES = Path(os.environ.get("MYAPP_UI_FAILURES", Path(tempfile.gettempdir()) / "myapp-ui-failures"))


def _environment_problem() -> str | None:
	"""Why the browser tests cannot run here, before touching the site; None when they can."""
	if not BENCH_SITE:
		return "Desk UI tests run in bench mode only: set MYAPP_TEST_SITE (and MYAPP_UI_URL)"
	if not UI_URL:
		return "set MYAPP_UI_URL to the test site's Desk, e.g. http://erp.localhost:8000 (bench serve)"
	try:
		import playwright.sync_api  # noqa: F401
	except ImportError:
		return "playwright (python) is not installed in this env: pip install playwright"
	if not os.path.exists(CHROMIUM):
		return f"no chromium at {CHROMIUM} (set MYAPP_UI_CHROMIUM)"
	try:
		with urllib.request.urlopen(f"{UI_URL}/api/method/ping", timeout=10) as response:
			if b"pong" not in response.read():
				return f"{UI_URL} does not answer like a Frappe site"
	except (urllib.error.URLError, OSError) as error:
		return f"the Desk at MYAPP_UI_URL={UI_URL} is not reachable ({error}): start `bench serve`"
	return None


def _socketio_problem() -> str | None:
	import frappe

	port = int(frappe.conf.get("socketio_port") or 9000)
	host = urllib.parse.urlparse(UI_URL).hostname
	try:
		socket.create_connection((host, port), timeout=5).close()
	except OSError:
		return (
			f"socket.io is not reachable at {host}:{port}: run `node apps/frappe/socketio.js` from the "
			"bench (realtime messages, progress and form reloads need it)"
		)
	return None


@pytest.fixture(scope="session", autouse=True)
def ui_environment(request):
	"""Skips the whole folder, with the reason, when the browser tests cannot run here."""
	problem = _environment_problem()
	if problem:
		pytest.skip(problem)
	request.getfixturevalue("site")
	problem = _socketio_problem()
	if problem:
		pytest.skip(problem)


@pytest.fixture(scope="session")
def browser(ui_environment):
	from playwright.sync_api import sync_playwright

	with sync_playwright() as playwright:
		browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
		yield browser
		browser.close()


@pytest.fixture(autouse=True)
def worker(clean_site):
	"""A real worker for the test's jobs, started after the site and queues were cleaned."""
	process = start_worker(burst=False)
	yield process
	stop_workers()


@pytest.fixture
def desk(browser, request):
	"""`desk.login(user)` opens a browser context logged in as that user; the test fails on any
	uncaught JavaScript error (`pageerror`) or server error (HTTP 5xx) while it runs."""
	session = Desk(browser)
	yield session
	if not getattr(request.node, "call_passed", True) and session.page:
		# what the page showed when the test failed
		FAILURES.mkdir(parents=True, exist_ok=True)
		path = FAILURES / f"{request.node.name}.png"
		session.page.screenshot(path=str(path), full_page=True)
		print(f"screenshot of the failure: {path}; page errors: {session.errors}")
	session.close()
	# a test that ends without calling desk.assert_clean() still fails on what the page threw
	if getattr(request.node, "call_passed", False):
		session.assert_clean()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
	outcome = yield
	report = outcome.get_result()
	if report.when == "call":
		item.call_passed = report.passed


def set_password(user, password=PASSWORD):
	import frappe
	from frappe.utils.password import update_password

	update_password(user, password)
	frappe.db.commit()
	return user


class Desk:
	def __init__(self, browser):
		self.browser = browser
		self.context = None
		self.page = None
		self.errors = []

	# session
	def login(self, user, password=PASSWORD):
		if self.context:
			self.context.close()
		self.context = self.browser.new_context(viewport=VIEWPORT, base_url=UI_URL, accept_downloads=True)
		page = self.page = self.context.new_page()
		page.set_default_timeout(30_000)
		page.on("pageerror", lambda error: self.errors.append(f"uncaught JavaScript error: {error}"))
		page.on("response", self._on_response)
		page.goto("/login")
		page.fill("#login_email", user)
		page.fill("#login_password", password)
		page.click(".btn-login")
		page.wait_for_url("**/app**")
		self.wait_for_desk()
		sitename = page.evaluate("frappe.boot.sitename")
		assert sitename == BENCH_SITE, (
			f"MYAPP_UI_URL serves site {sitename}, not MYAPP_TEST_SITE={BENCH_SITE}"
		)
		try:
			page.wait_for_function(
				"() => frappe.realtime.socket && frappe.realtime.socket.connected", timeout=15_000
			)
		except Exception:
			pytest.skip(
				"the Desk's socket.io client did not connect: with `bench serve`, start it with DEV_SERVER=1"
			)
		return page

	def _on_response(self, response):
		if response.status >= 500 and "/api/" in response.url:
			self.errors.append(f"HTTP {response.status} from {response.url}")

	def close(self):
		if self.context:
			self.context.close()
			self.context = None

	def assert_clean(self):
		assert not self.errors, "; ".join(self.errors)

	# navigation
	def goto(self, path):
		self.page.goto(path)
		self.wait_for_desk()

	def wait_for_desk(self):
		self.page.wait_for_function("() => window.frappe && frappe.boot && frappe.router && frappe.container")
		self.wait_unfrozen()

	def wait_unfrozen(self):
		self.page.wait_for_function("() => !document.querySelector('#freeze.in')")

	def open_form(self, doctype, name):
		self.goto(f"/app/{slug(doctype)}/{urllib.parse.quote(name)}")
		self.page.wait_for_function(
			"([doctype, name]) => window.cur_frm && cur_frm.doctype === doctype && cur_frm.docname === name"
			" && cur_frm.page.wrapper.is(':visible')",
			arg=[doctype, name],
		)
		return self.page

	def reload_form(self):
		self.page.evaluate("cur_frm.reload_doc()")
		self.wait_unfrozen()

	# what the user sees
	def click_button(self, label, group=None):
		page = self.page
		if group:
			page.locator(".page-actions .inner-group-button", has_text=group).locator("button").first.click()
			page.locator(".page-actions .inner-group-button .dropdown-menu a", has_text=label).first.click()
		else:
			page.locator(
				".page-actions button:visible, .page-actions .btn:visible", has_text=label
			).first.click()

	def menu_item(self, label):
		page = self.page
		page.locator(".page-head .menu-btn-group button:visible").first.click()
		page.locator(".page-head .menu-btn-group .dropdown-menu a:visible", has_text=label).first.click()

	def confirm(self):
		self.page.locator(".modal.show .modal-footer .btn-primary", has_text="Yes").click()

	def alert(self, text):
		locator = self.page.locator("#alert-container .alert", has_text=text).first
		locator.wait_for(state="visible")
		return locator

	def message_dialog(self, text, timeout=JOB_TIMEOUT_MS):
		"""The msgprint dialog holding `text` (a job's realtime message)."""
		locator = self.page.locator(".modal.show .msgprint", has_text=text).first
		locator.wait_for(state="visible", timeout=timeout)
		return locator

	def close_dialogs(self):
		"""Close every open dialog with its close button, as a user would."""
		page = self.page
		for _attempt in range(4):
			buttons = page.locator(".modal.show .btn-modal-close:visible")
			if not buttons.count():
				break
			buttons.last.click()  # the top-most first
			page.wait_for_timeout(100)  # let Bootstrap start hiding it before looking again
		page.wait_for_function("() => !document.querySelector('.modal.show')")
		page.wait_for_function("() => !document.querySelector('.modal-backdrop')")

	def indicator(self):
		return self.page.locator(".page-head .indicator-pill:visible").first

	def download(self, url):
		"""The body of `url`, fetched with this browser session's cookies (as clicking the link would)."""
		response = self.context.request.get(url)
		assert response.ok, f"{url}: HTTP {response.status}"
		return response.body()

	def shot(self, name, alerts=True):
		"""A screenshot into MYAPP_UI_SHOTS (no-op without it), once transitions have ended;
		`alerts=False` leaves out the alerts still shown at the bottom right."""
		if not SHOTS:
			return
		if not alerts:
			self.page.evaluate(
				"document.querySelectorAll('#alert-container .desk-alert').forEach((a) => a.remove())"
			)
		try:
			self.page.wait_for_function(
				"() => !document.getAnimations().some((a) => a.playState === 'running' && a.effect"
				" && a.effect.getComputedTiming().iterations !== Infinity)",
				timeout=5_000,
			)
		except Exception:
			pass  # an endless animation: take the picture anyway
		Path(SHOTS).mkdir(parents=True, exist_ok=True)
		self.page.screenshot(path=str(Path(SHOTS) / f"{name}.png"))


def slug(doctype):
	return doctype.lower().replace(" ", "-")


def csv_rows(body: bytes):
	return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def wait_until(condition, message, timeout=60):
	"""Polls a condition on the database (the jobs commit in their own connections)."""
	import time

	import frappe

	deadline = time.monotonic() + timeout
	while True:
		frappe.db.rollback()
		value = condition()
		if value:
			return value
		if time.monotonic() > deadline:
			raise AssertionError(message)
		time.sleep(0.3)
