"""Job de-duplication: one queued-or-running job per key, claimed atomically in Redis.

`frappe.enqueue(..., deduplicate=True)` checks and then enqueues, so two requests at once can
both pass the check. Here the claim is a Redis `SET NX` on the job's site-namespaced id, taken
before enqueueing and released by the job's RQ callbacks when it ends, however it ends. A claim
whose job is no longer queued or started (a worker killed with SIGKILL runs no callback) is
stale and may be taken over.
"""

import datetime
import functools
import json
import threading
import time

import frappe
from frappe import _
from frappe.utils.background_jobs import create_job_id, get_redis_conn
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq.exceptions import NoSuchJobError
from rq.job import Job

# A claim outlives any job: the long queue's timeout is 1500 s, user jobs may ask for up to 2 h.
CLAIM_TTL = 3 * 60 * 60
# A claim younger than this is never stale: its job may be between SET NX and enqueue.
CLAIM_GRACE_SECONDS = 30
ACTIVE_JOB_STATUSES = ("queued", "started", "deferred", "scheduled")


class JobAlreadyQueuedError(frappe.ValidationError):
	pass


class QueueUnavailableError(frappe.ValidationError):
	http_status_code = 503


# Redis down or restarting: the request fails with a clear message instead of a bare traceback.
QUEUE_UNAVAILABLE_ERRORS = (RedisConnectionError, RedisTimeoutError)


def throw_queue_unavailable():
	frappe.throw(
		_(
			"The background job queue cannot be reached right now, so nothing was started. Please try again in a few minutes."
		),
		QueueUnavailableError,
		title=_("Background jobs unavailable"),
	)


def claim_key(job_id: str) -> str:
	return f"myapp:job-claim:{job_id}"


def enqueue_once(
	method: str,
	job_id: str,
	*,
	queue: str = "default",
	timeout: int | None = None,
	on_success: str | None = None,
	on_failure: str | None = None,
	message: str | None = None,
	**kwargs,
):
	"""Enqueue `method` unless a job with `job_id` is queued or running; raises JobAlreadyQueuedError.

	`on_success` / `on_failure` are dotted paths of RQ callbacks (job, connection, result) /
	(job, connection, type, value, traceback) decorated with `releases_claim_on_success` /
	`releases_claim_on_failure`; like every RQ callback in Frappe they run without site context.
	They are the job's own RQ callbacks, so they run even when the queue's Redis lost the claim
	(a restart of a Redis that keeps nothing on disk): the work horse holds its job in memory.
	"""
	on_success = on_success or "myapp.utils.jobs.release_claim_on_success"
	on_failure = on_failure or "myapp.utils.jobs.release_claim_on_failure"
	for callback in (on_success, on_failure):
		if not getattr(_import(callback), "releases_claim", False):
			raise ValueError(f"{callback} must be decorated with myapp.utils.jobs.releases_claim_on_*")
	full_job_id = create_job_id(job_id)
	claim = json.dumps({"claimed_at": time.time(), "user": frappe.session.user})
	connection = get_redis_conn()
	try:
		claimed = _take_claim(connection, full_job_id, claim)
	except QUEUE_UNAVAILABLE_ERRORS:
		throw_queue_unavailable()
	if not claimed:
		frappe.throw(message or _("This job is already queued or running."), JobAlreadyQueuedError)
	try:
		job = frappe.enqueue(
			method,
			queue=queue,
			timeout=timeout,
			job_id=job_id,
			on_success=on_success,
			on_failure=on_failure,
			**kwargs,
		)
	except QUEUE_UNAVAILABLE_ERRORS:
		throw_queue_unavailable()
	except Exception:
		connection.delete(claim_key(full_job_id))
		raise
	if kwargs.get("enqueue_after_commit"):
		# a request that rolls back never enqueues its job, so no callback would release the claim
		frappe.db.after_rollback.add(lambda: _release_if_unchanged(connection, full_job_id, claim))
	return job


def _release_if_unchanged(connection, full_job_id: str, claim: str):
	key = claim_key(full_job_id)
	current = connection.get(key)
	if current is not None and current.decode() == claim:
		connection.delete(key)


def is_claimed(job_id: str) -> bool:
	return bool(get_redis_conn().exists(claim_key(create_job_id(job_id))))


def _take_claim(connection, full_job_id: str, claim: str) -> bool:
	key = claim_key(full_job_id)
	if connection.set(key, claim, nx=True, ex=CLAIM_TTL):
		return True
	current = connection.get(key)
	if current is None or not _is_stale(full_job_id, current):
		return False
	# Replace only the stale value we read: a concurrent taker that won first keeps its claim.
	with connection.pipeline() as pipe:
		try:
			pipe.watch(key)
			if pipe.get(key) != current:
				return False
			pipe.multi()
			pipe.set(key, claim, ex=CLAIM_TTL)
			pipe.execute()
			return True
		except Exception:
			return False


def _is_stale(full_job_id: str, current: bytes) -> bool:
	try:
		claimed_at = json.loads(current)["claimed_at"]
	except (ValueError, KeyError, TypeError):
		return True
	job = _fetch_job(full_job_id)
	if job is not None and job.created_at and _utc_timestamp(job.created_at) >= claimed_at:
		# this claim's own job: stale once it ended without releasing it (a killed work horse)
		return job.get_status() not in ACTIVE_JOB_STATUSES
	if time.time() - claimed_at < CLAIM_GRACE_SECONDS:
		return False
	return not job or job.get_status() not in ACTIVE_JOB_STATUSES


def _fetch_job(full_job_id: str):
	# by its full id: frappe's get_job() would namespace it with the site a second time
	try:
		return Job.fetch(full_job_id, connection=get_redis_conn())
	except NoSuchJobError:
		return None


def _utc_timestamp(value) -> float:
	# RQ stores naive UTC datetimes
	return value.replace(tzinfo=datetime.timezone.utc).timestamp()


def _release(job, connection):
	connection.delete(claim_key(job.id))


def release_claim_on_success(job, connection, result, *args, **kwargs):
	_release(job, connection)


release_claim_on_success.releases_claim = True


def release_claim_on_failure(job, connection, type, value, traceback):
	from frappe.utils.background_jobs import truncate_failed_registry

	_release(job, connection)
	# Frappe's default on_failure, which an explicit callback replaces
	truncate_failed_registry(job, connection, type, value, traceback)
	# a Failed Job record at once, with the real exception (never raises; the capture is the backstop)
	_import("myapp.job_center.record_failure_callback")(job, connection, type, value, traceback)


release_claim_on_failure.releases_claim = True


def releases_claim_on_success(callback):
	"""Decorate the on_success callback of an `enqueue_once` job: the claim is released first."""

	@functools.wraps(callback)
	def run(job, connection, result, *args, **kwargs):
		release_claim_on_success(job, connection, result)
		return callback(job, connection, result, *args, **kwargs)

	run.releases_claim = True
	return run


def releases_claim_on_failure(callback):
	"""Decorate the on_failure callback of an `enqueue_once` job (or of any job): the claim is
	released, Frappe's default on_failure (which an explicit callback replaces) and the Failed
	Job record run first."""

	@functools.wraps(callback)
	def run(job, connection, type, value, traceback):
		release_claim_on_failure(job, connection, type, value, traceback)
		return callback(job, connection, type, value, traceback)

	run.releases_claim = True
	return run


def _import(path: str):
	# No site context here (see module docstring): frappe.get_attr would need frappe.local.
	import importlib

	module, attr = path.rsplit(".", 1)
	return getattr(importlib.import_module(module), attr)


def job_site_callback(callback):
	"""Decorate an RQ callback `(job, connection, ...)` that works on the job's site.

	In a worker, Frappe has destroyed the job's context before RQ calls a callback: one is opened
	as the job's user, committed (rolled back on an exception) and destroyed (`site_context`).
	But rq 1.15 also runs the failure callback of an abandoned job (a killed worker) inside
	`StartedJobRegistry.cleanup()`, which v15's RQ Job list triggers in a web request, for the
	bench-wide registry: a context of the job's site is then reused as it is, and a context of
	another site is left untouched while the callback runs on a thread of its own.
	"""

	@functools.wraps(callback)
	def run(job, connection, *args, **kwargs):
		open_site = getattr(frappe.local, "site", None)
		if open_site and open_site != job.kwargs["site"]:
			# the same bench: the other site's sites folder is the job's site's too
			sites_path = frappe.local.sites_path
			return _on_own_thread(run_in_site, job, connection, sites_path, *args, **kwargs)
		return run_in_site(job, connection, None, *args, **kwargs)

	def run_in_site(job, connection, sites_path, *args, **kwargs):
		with site_context(job, sites_path):
			return callback(job, connection, *args, **kwargs)

	return run


def _on_own_thread(function, *args, **kwargs):
	# frappe.local is per thread (a ContextVar in v15): a new thread starts with no site open
	outcome = {}

	def target():
		try:
			outcome["result"] = function(*args, **kwargs)
		except BaseException as e:
			outcome["error"] = e

	thread = threading.Thread(target=target, name="myapp-job-callback")
	thread.start()
	thread.join()
	if "error" in outcome:
		raise outcome["error"]
	return outcome.get("result")


def site_context(job, sites_path: str | None = None):
	"""`with site_context(job):` the job's site, as `job_site_callback` describes: a new context
	when none is open (in `sites_path`, else the working directory, a worker's sites folder), the
	open one when it is the job's site."""
	if getattr(frappe.local, "site", None) == job.kwargs["site"] and getattr(frappe.local, "db", None):
		return _ReusedSiteContext()
	return _SiteContext(job.kwargs["site"], job.kwargs.get("user"), sites_path)


class _SiteContext:
	def __init__(self, site: str, user: str | None, sites_path: str | None = None):
		self.site = site
		self.user = user
		self.sites_path = sites_path

	def __enter__(self):
		frappe.init(site=self.site, sites_path=self.sites_path or ".")
		frappe.connect()
		if self.user:
			frappe.set_user(self.user)
		return frappe.local

	def __exit__(self, exc_type, exc, tb):
		try:
			if exc_type:
				frappe.db.rollback()
			else:
				frappe.db.commit()
		finally:
			frappe.destroy()


class _ReusedSiteContext:
	"""The caller's open context: the callback's writes join its transaction (undone alone on an
	exception), and nothing of it is committed, rolled back, switched or destroyed here."""

	SAVEPOINT = "myapp_job_callback"

	def __enter__(self):
		frappe.db.savepoint(self.SAVEPOINT)
		return frappe.local

	def __exit__(self, exc_type, exc, tb):
		if exc_type:
			frappe.db.rollback(save_point=self.SAVEPOINT)
			return False
		frappe.db.release_savepoint(self.SAVEPOINT)
		frappe.local.flags.commit = True  # v15 commits a request that set it, whatever its method
		return False


def workers_serving(queue: str) -> int:
	"""Workers of this bench listening on `queue` (short, default, long)."""
	from frappe.utils.background_jobs import get_queue, get_workers

	return len(get_workers(get_queue(queue)))
