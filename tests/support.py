"""The test site and its workers, for tests/conftest.py and benchmarks/ alike.

Standalone, `tests/testbed` provides `frappe` and a throwaway site is installed under
`tests/.sites/<prefix>`; with `MYAPP_TEST_SITE` set, the real `frappe` and that bench site are used.
"""

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TESTBED = REPO / "tests" / "testbed"
BENCH_SITE = os.environ.get("MYAPP_TEST_SITE")

if not BENCH_SITE:
	sys.path.insert(0, str(TESTBED))
sys.path.insert(0, str(REPO))

import frappe  # noqa: E402


def _redis_url():
	base = os.environ.get("MYAPP_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")
	return f"{base}/{int(os.environ.get('MYAPP_TEST_REDIS_DB', '1'))}"


def _sites_path(variant=""):
	if BENCH_SITE:
		# Frappe logs to ../logs relative to the cwd, so in a bench the tests run from sites/
		return str(Path(os.environ.get("MYAPP_SITES_PATH", ".")).resolve())
	prefix = os.environ.get("MYAPP_TEST_DB_PREFIX", "myapp_test")
	return str(REPO / "tests" / ".sites" / f"{prefix}{variant}")


def _site_name(variant=""):
	return BENCH_SITE or f"{os.environ.get('MYAPP_TEST_DB_PREFIX', 'myapp_test')}{variant}.localhost"


def connect_site():
	"""frappe.init + connect the test site in this process, as Administrator."""
	if getattr(frappe.local, "initialised", None):
		frappe.destroy()
	frappe.init(_site_name(), sites_path=_sites_path(), force=True)
	frappe.connect()


@contextmanager
def connected_to(site, sites_path):
	"""This process connected to another site for the block, then to the test site again."""
	frappe.destroy()
	frappe.init(site, sites_path=sites_path, force=True)
	frappe.connect()
	try:
		yield site
	finally:
		if getattr(frappe.local, "db", None):
			frappe.db.rollback()
		connect_site()


def own_connection():
	"""A database connection of the test's own (another session): to hold a lock while the code
	under test runs on frappe.db."""
	import pymysql

	conf = frappe.conf
	return pymysql.connect(
		host=conf.db_host or "127.0.0.1",
		port=int(conf.db_port or 3306),
		user=conf.db_user or conf.db_name,
		password=conf.db_password or "",
		database=conf.db_name,
		autocommit=False,
	)


def install_test_site(prefix=None, apps=("frappe", "erpnext", "myapp"), variant=""):
	"""Install the throwaway testbed site (drops and re-creates its database), or connect a bench
	site. `variant` names a second site with other `apps`, in a sites folder of its own."""
	if prefix:
		os.environ["MYAPP_TEST_DB_PREFIX"] = prefix
	if BENCH_SITE:
		connect_site()
		ensure_outgoing_email_account()
		return _site_name()
	from frappe.installer import install_site

	site, sites_path = _site_name(variant), _sites_path(variant)
	install_site(
		site,
		sites_path,
		list(apps),
		db_host=os.environ.get("MYAPP_DB_HOST", "127.0.0.1"),
		db_port=int(os.environ.get("MYAPP_DB_PORT", "3306")),
		db_user=os.environ.get("MYAPP_DB_USER", "root"),
		db_password=os.environ.get("MYAPP_DB_PASSWORD", ""),
		redis_queue=_redis_url(),
		redis_cache=_redis_url(),
	)
	ensure_outgoing_email_account()
	return site


def ensure_outgoing_email_account():
	"""Frappe queues email only with a default outgoing Email Account (the site's `mute_emails`
	keeps it from sending); validation is skipped because it would log in to the SMTP server."""
	if frappe.db.exists("Email Account", {"default_outgoing": 1, "enable_outgoing": 1}):
		return
	account = frappe.get_doc(
		{
			"doctype": "Email Account",
			"email_account_name": "MyApp Tests",
			"email_id": "notifications@myapp.test",
			"enable_outgoing": 1,
			"default_outgoing": 1,
			"smtp_server": "127.0.0.1",
			"no_smtp_authentication": 1,
		}
	)
	account.flags.ignore_validate = True
	account.insert(ignore_permissions=True)
	frappe.db.commit()


# workers
def _worker_env():
	env = dict(os.environ)
	# tests/ too: test-only job functions (tests/testbed_jobs_fixtures.py) are imported by the worker
	paths = [str(REPO), str(REPO / "tests")] + ([] if BENCH_SITE else [str(TESTBED)])
	env["PYTHONPATH"] = os.pathsep.join(paths + [env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
	return env


WORKER_CODE = (
	"import frappe.utils.background_jobs as b; b.start_worker(queue={queue!r}, quiet=True, burst=True)"
)


def start_worker(queues="short,default,long", burst=True, sites_path=None):
	"""A real `frappe.utils.background_jobs.start_worker` process with the sites folder as cwd."""
	code = WORKER_CODE.format(queue=queues)
	if not burst:
		code = code.replace("burst=True", "burst=False")
	process = subprocess.Popen(
		[sys.executable, "-c", code],
		cwd=sites_path or _sites_path(),
		env=_worker_env(),
		stdout=subprocess.PIPE,
		stderr=subprocess.STDOUT,
		text=True,
	)
	_started_workers.append(process)
	return process


_started_workers: list[subprocess.Popen] = []


def stop_workers():
	"""Stop every worker a test started and left running (a failing test never reaches its own
	cleanup, and a leftover worker would take the next test's jobs)."""
	while _started_workers:
		process = _started_workers.pop()
		if process.poll() is None:
			process.kill()
			process.wait(timeout=30)


# A real bench queues jobs of its own (a new User queues two: create_contact, update_gravatar):
# what the tests count is their site's jobs of this app and of the tests' job modules.
FRAMEWORK_JOB_PREFIXES = ("frappe.", "erpnext.")


def job_method_name(job) -> str:
	method = (job.kwargs or {}).get("method")
	if isinstance(method, str):
		return method
	return f"{getattr(method, '__module__', '')}.{getattr(method, '__qualname__', '')}"


def is_app_job(job) -> bool:
	"""This site's job of this app (or of a test's job module), not one Frappe or ERPNext queued."""
	kwargs = job.kwargs or {}
	return kwargs.get("site") == frappe.local.site and not job_method_name(job).startswith(
		FRAMEWORK_JOB_PREFIXES
	)


def pending_jobs(queues=("short", "default", "long"), app_only=True):
	"""Queued and started jobs: this site's jobs of this app (`app_only`), or every job on the queues."""
	from frappe.utils.background_jobs import get_queue
	from rq.job import Job

	total = 0
	for name in queues:
		queue = get_queue(name)
		if not app_only:
			total += queue.count + queue.started_job_registry.count
			continue
		# the registry's key, not get_job_ids(): that runs RQ's cleanup, and so abandoned jobs' callbacks
		started_ids = [i.decode() for i in queue.connection.zrange(queue.started_job_registry.key, 0, -1)]
		started = Job.fetch_many(started_ids, connection=queue.connection)
		total += sum(1 for job in [*queue.jobs, *started] if job and is_app_job(job))
	return total


def drain_queues(workers=1, queues="short,default,long", timeout=300, sites_path=None):
	"""Commit, then run burst workers (in `sites_path`, by default the test site's sites folder)
	until every queue is empty; returns the workers' output."""
	frappe.db.commit()
	output = []
	deadline = time.monotonic() + timeout
	while True:
		processes = [start_worker(queues, sites_path=sites_path) for _ in range(workers)]
		for process in processes:
			out, _ = process.communicate(timeout=max(1, deadline - time.monotonic()))
			output.append(out)
		if not pending_jobs(tuple(queues.split(",")), app_only=False) or time.monotonic() > deadline:
			break
	frappe.db.commit()
	return "\n".join(output)
