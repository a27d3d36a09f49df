"""Background jobs on Redis + RQ, with Frappe v15's semantics.

Same names and signatures as `frappe.utils.background_jobs` in v15: queues are named
`{bench_id}:{qtype}`, job ids `{site}::{job_id}`, the worker runs `execute_job`, which
commits after the method and rolls back on an exception; RQ callbacks run afterwards in the
work horse, when `execute_job` has already called `frappe.destroy()`.
"""

import os
import time
import warnings
from collections import defaultdict
from collections.abc import Callable
from functools import lru_cache
from typing import Any
from uuid import uuid4

import redis
from redis.exceptions import BusyLoadingError, ConnectionError
from rq import Callback, Queue, Worker
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.logutils import setup_loghandlers
from rq.worker import DequeueStrategy
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_fixed

import frappe
from frappe import _
from frappe.utils import CallbackManager, cint, create_batch, get_bench_id

# TTL to keep RQ job logs in redis for.
RQ_JOB_FAILURE_TTL = 7 * 24 * 60 * 60  # 7 days instead of 1 year (default)
RQ_FAILED_JOBS_LIMIT = 1000  # Only keep these many recent failed jobs around
RQ_RESULTS_TTL = 10 * 60

BACKGROUND_PROCESS_NICENESS = 10

_redis_queue_conn = None


@lru_cache
def get_queues_timeout():
	common_site_config = frappe.get_conf()
	custom_workers_config = common_site_config.get("workers", {})
	default_timeout = 300

	# order matters: a worker without explicit queues serves them in this order
	return {
		"short": default_timeout,
		"default": default_timeout,
		"long": 1500,
		**{
			worker: config.get("timeout", default_timeout) for worker, config in custom_workers_config.items()
		},
	}


def enqueue(
	method: str | Callable,
	queue: str = "default",
	timeout: int | None = None,
	event=None,
	is_async: bool = True,
	job_name: str | None = None,
	now: bool = False,
	enqueue_after_commit: bool = False,
	*,
	on_success: Callable | None = None,
	on_failure: Callable | None = None,
	at_front: bool = False,
	job_id: str | None = None,
	deduplicate=False,
	**kwargs,
) -> Job | Any:
	"""Enqueue `method` (dotted path or function) to run in a background worker.

	`deduplicate=True` (requires `job_id`) returns None without queueing while a job with the
	same id is queued or started. `now=True` runs it here through `frappe.call`."""
	# older callers pass `async`
	is_async = kwargs.pop("async", is_async)

	if deduplicate:
		if not job_id:
			frappe.throw(_("`job_id` paramater is required for deduplication."))
		job = get_job(job_id)
		if job and job.get_status() in (JobStatus.QUEUED, JobStatus.STARTED):
			frappe.logger().debug(f"Not queueing job {job.id} because it is in queue already")
			return
		elif job:
			# a finished job keeps its id in Redis: drop it so RQ does not reuse its old args
			job.delete()

	# namespace job ids to sites
	job_id = create_job_id(job_id)

	if job_name:
		warnings.warn(
			"Using enqueue with `job_name` is deprecated, use `job_id` instead.",
			DeprecationWarning,
			stacklevel=2,
		)

	if not is_async and not frappe.flags.in_test:
		warnings.warn(
			"Using enqueue with is_async=False outside of tests is not recommended, use now=True instead.",
			DeprecationWarning,
			stacklevel=2,
		)

	call_directly = now or (not is_async and not frappe.flags.in_test)
	if call_directly:
		return frappe.call(method, **kwargs)

	try:
		q = get_queue(queue, is_async=is_async)
	except ConnectionError:
		if frappe.local.flags.in_migrate:
			# as in Frappe: a migration without Redis runs the job inline
			print(f"Redis queue is unreachable: Executing {method} synchronously")
			return frappe.call(method, **kwargs)
		raise

	if not timeout:
		timeout = get_queues_timeout().get(queue) or 300

	# a readable name instead of <function x at 0x...>
	if isinstance(method, Callable):
		method_name = f"{method.__module__}.{method.__qualname__}"
	else:
		method_name = method

	queue_args = {
		"site": frappe.local.site,
		"user": frappe.session.user,
		"method": method,
		"event": event,
		"job_name": job_name or method_name,
		"is_async": is_async,
		"kwargs": kwargs,
	}

	on_failure = on_failure or truncate_failed_registry

	def enqueue_call():
		return q.enqueue_call(
			execute_job,
			on_success=Callback(func=on_success) if on_success else None,
			on_failure=Callback(func=on_failure) if on_failure else None,
			timeout=timeout,
			kwargs=queue_args,
			at_front=at_front,
			failure_ttl=frappe.conf.get("rq_job_failure_ttl") or RQ_JOB_FAILURE_TTL,
			result_ttl=frappe.conf.get("rq_results_ttl") or RQ_RESULTS_TTL,
			job_id=job_id,
		)

	if enqueue_after_commit:
		frappe.db.after_commit.add(enqueue_call)
		return

	return enqueue_call()


def enqueue_doc(doctype, name=None, method=None, queue="default", timeout=300, now=False, **kwargs):
	"""Enqueue a method to be run on a document"""
	return enqueue(
		"frappe.utils.background_jobs.run_doc_method",
		doctype=doctype,
		name=name,
		doc_method=method,
		queue=queue,
		timeout=timeout,
		now=now,
		**kwargs,
	)


def run_doc_method(doctype, name, doc_method, **kwargs):
	getattr(frappe.get_doc(doctype, name), doc_method)(**kwargs)


def execute_job(site, method, event, job_name, kwargs, user=None, is_async=True, retry=0):
	"""Run a job in a worker: commit on success, rollback + Error Log on failure,
	retry deadlocks / lock wait timeouts / RetryBackgroundJobError up to 5 times."""
	retval = None

	if is_async:
		frappe.init(site=site)
		frappe.connect()
		if os.environ.get("CI"):
			frappe.flags.in_test = True

		if user:
			frappe.set_user(user)

	if isinstance(method, str):
		method_name = method
		method = frappe.get_attr(method)
	else:
		method_name = f"{method.__module__}.{method.__qualname__}"

	frappe.local.job = frappe._dict(
		site=site,
		method=method_name,
		job_name=job_name,
		kwargs=kwargs,
		user=user,
		after_job=CallbackManager(),
	)

	for before_job_task in frappe.get_hooks("before_job"):
		frappe.call(before_job_task, method=method_name, kwargs=kwargs, transaction_type="job")

	try:
		retval = method(**kwargs)

	except (frappe.db.InternalError, frappe.RetryBackgroundJobError) as e:
		frappe.db.rollback()

		if retry < 5 and (
			isinstance(e, frappe.RetryBackgroundJobError)
			or (frappe.db.is_deadlocked(e) or frappe.db.is_timedout(e))
		):
			# 1213 = deadlock, 1205 = lock wait timeout, or an explicit retry request
			frappe.local.job.after_job.reset()
			frappe.destroy()
			time.sleep(retry + 1)

			# as in v15 the retry does not pass `user` on (it runs as Administrator)
			return execute_job(site, method, event, job_name, kwargs, is_async=is_async, retry=retry + 1)

		else:
			frappe.log_error(title=method_name)
			raise

	except Exception:
		frappe.db.rollback()
		frappe.log_error(title=method_name)
		# Error Log is MyISAM, but commit anyway as Frappe does
		frappe.db.commit()
		print(frappe.get_traceback())
		raise

	else:
		frappe.db.commit()
		return retval

	finally:
		# a retry destroyed the context: after_job hooks still need a site
		if not getattr(frappe.local, "site", None):
			frappe.init(site)
			frappe.connect()
		for after_job_task in frappe.get_hooks("after_job"):
			frappe.call(after_job_task, method=method_name, kwargs=kwargs, result=retval)
		# as in v15: after a retry the re-initialised context has no `job`, so this raises
		# AttributeError and RQ marks the (committed) retried job as failed
		frappe.local.job.after_job.run()

		if is_async:
			frappe.destroy()


def start_worker(
	queue: str | None = None,
	quiet: bool = False,
	rq_username: str | None = None,
	rq_password: str | None = None,
	burst: bool = False,
	strategy: DequeueStrategy | None = DequeueStrategy.DEFAULT,
) -> None:  # pragma: no cover
	"""Start an RQ (forking) worker on the bench's queues; run it with cwd = sites folder."""
	if not strategy:
		strategy = DequeueStrategy.DEFAULT

	with frappe.init_site():
		# an empty init reads redis_queue from common_site_config.json
		redis_connection = get_redis_conn(username=rq_username, password=rq_password)

		if queue:
			queue = [q.strip() for q in queue.split(",")]
		queues = get_queue_list(queue, build_queue_name=True)

	if os.environ.get("CI"):
		setup_loghandlers("ERROR")

	set_niceness()

	logging_level = "WARNING" if quiet else "INFO"

	worker = Worker(queues, connection=redis_connection)
	worker.work(
		logging_level=logging_level,
		burst=burst,
		date_format="%Y-%m-%d %H:%M:%S",
		log_format="%(asctime)s,%(msecs)03d %(message)s",
		dequeue_strategy=strategy,
	)


def get_jobs(site=None, queue=None, key="method"):
	"""Values of `key` of the queued and running jobs, per site"""
	jobs_per_site = defaultdict(list)

	def add_to_dict(job):
		if key in job.kwargs:
			jobs_per_site[job.kwargs["site"]].append(job.kwargs[key])
		elif key in job.kwargs.get("kwargs", {}):
			# the method's own keyword arguments sit in kwargs["kwargs"]
			jobs_per_site[job.kwargs["site"]].append(job.kwargs["kwargs"][key])

	for _queue in get_queue_list(queue):
		q = get_queue(_queue)
		for job in q.jobs + get_running_jobs_in_queue(q):
			if job.kwargs.get("site"):
				if site is None or job.kwargs["site"] == site:
					add_to_dict(job)
			else:
				print("No site found in job", job.__dict__)

	return jobs_per_site


def get_queue_list(queue_list=None, build_queue_name=False):
	"""Defines possible queues. Also wraps a given queue in a list after validating."""
	default_queue_list = list(get_queues_timeout())
	if queue_list:
		if isinstance(queue_list, str):
			queue_list = [queue_list]

		for queue in queue_list:
			validate_queue(queue, default_queue_list)
	else:
		queue_list = default_queue_list
	return [generate_qname(qtype) for qtype in queue_list] if build_queue_name else queue_list


def get_workers(queue=None):
	"""Workers of `queue` (an rq Queue), else all workers on the connection"""
	if queue:
		return Worker.all(queue=queue)
	return Worker.all(get_redis_conn())


def get_running_jobs_in_queue(queue):
	"""Jobs of `queue` (an rq Queue) that a worker is running now"""
	jobs = []
	for worker in get_workers(queue):
		current_job = worker.get_current_job()
		if current_job:
			jobs.append(current_job)
	return jobs


def get_queue(qtype, is_async=True):
	"""An rq Queue (`short`, `default`, `long` or a configured one) on the queue connection"""
	validate_queue(qtype)
	return Queue(generate_qname(qtype), connection=get_redis_conn(), is_async=is_async)


def validate_queue(queue, default_queue_list=None):
	if not default_queue_list:
		default_queue_list = list(get_queues_timeout())

	if queue not in default_queue_list:
		frappe.throw(_("Queue should be one of {0}").format(", ".join(default_queue_list)))


@retry(
	retry=retry_if_exception_type((BusyLoadingError, ConnectionError)),
	stop=stop_after_attempt(5),
	wait=wait_fixed(1),
	reraise=True,
)
def get_redis_conn(username=None, password=None):
	if not hasattr(frappe.local, "conf"):
		raise Exception("You need to call frappe.init")

	elif not frappe.local.conf.redis_queue:
		raise Exception("redis_queue missing in common_site_config.json")

	cred = frappe._dict()
	if frappe.conf.get("use_rq_auth"):
		if username:
			cred["username"] = username
			cred["password"] = password
		else:
			cred["username"] = frappe.conf.get("rq_username") or get_bench_id()
			cred["password"] = frappe.conf.get("rq_password")

	elif os.environ.get("RQ_ADMIN_PASWORD"):
		cred["username"] = "default"
		cred["password"] = os.environ.get("RQ_ADMIN_PASWORD")

	try:
		if not cred:
			return get_redis_connection_without_auth()
		return _connect(**cred)
	except redis.exceptions.AuthenticationError:
		print(f"Wrong credentials used for {cred.username or 'default user'}.")
		raise
	except Exception as e:
		print(
			f"Please make sure that Redis Queue runs @ {frappe.conf.redis_queue}. Redis reported error: {e!s}"
		)
		raise


def get_redis_connection_without_auth():
	# one connection per process, as in Frappe (redis-py resets its pool after a fork)
	global _redis_queue_conn

	if not _redis_queue_conn:
		_redis_queue_conn = _connect()
	return _redis_queue_conn


def _connect(username=None, password=None):
	# v15's RedisQueue.get_connection without the sentinel branch
	conn = redis.from_url(frappe.conf.redis_queue, username=username, password=password)
	conn.ping()
	return conn


def get_queues(connection=None) -> list[Queue]:
	"""Get all the queues linked to the current bench."""
	queues = Queue.all(connection=connection or get_redis_conn())
	return [q for q in queues if is_queue_accessible(q)]


def generate_qname(qtype: str) -> str:
	"""Queue name namespaced by bench: `{bench_id}:{qtype}`"""
	if isinstance(qtype, list):
		qtype = ",".join(qtype)
	return f"{get_bench_id()}:{qtype}"


def is_queue_accessible(qobj: Queue) -> bool:
	"""Checks whether queue is relate to current bench or not."""
	accessible_queues = [generate_qname(q) for q in list(get_queues_timeout())]
	return qobj.name in accessible_queues


def create_job_id(job_id: str | None = None) -> str:
	"""Site-namespaced job id: `{site}::{job_id}` (a uuid when none is given)"""
	if not job_id:
		job_id = str(uuid4())
	return f"{frappe.local.site}::{job_id}"


def is_job_enqueued(job_id: str) -> bool:
	return get_job_status(job_id) in (JobStatus.QUEUED, JobStatus.STARTED)


def get_job_status(job_id: str) -> JobStatus | None:
	"""Get RQ job status, returns None if job is not found."""
	job = get_job(job_id)
	if job:
		return job.get_status()


def get_job(job_id: str) -> Job | None:
	try:
		return Job.fetch(create_job_id(job_id), connection=get_redis_conn())
	except NoSuchJobError:
		return None


def set_niceness():
	"""Lower the priority of a background process (once per process)"""
	configured_niceness = frappe.get_conf().get("background_process_niceness")
	nice_increment = BACKGROUND_PROCESS_NICENESS if configured_niceness is None else cint(configured_niceness)
	os.nice(nice_increment)


def truncate_failed_registry(job, connection, type, value, traceback):
	"""Default on_failure callback: keep at most `rq_failed_jobs_limit` failed jobs per queue.

	Runs with no site context (after execute_job's destroy), hence get_conf(site=...)."""
	conf = getattr(frappe.local, "conf", None) or frappe.get_conf(site=job.kwargs.get("site"))
	limit = (conf.get("rq_failed_jobs_limit") or RQ_FAILED_JOBS_LIMIT) - 1

	for queue in get_queues(connection=connection):
		fail_registry = queue.failed_job_registry
		failed_jobs = fail_registry.get_job_ids()[limit:]
		for job_ids in create_batch(failed_jobs, 100):
			for job_obj in Job.fetch_many(job_ids=job_ids, connection=connection):
				job_obj and fail_registry.remove(job_obj, delete_job=True)
