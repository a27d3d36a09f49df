"""Failed background jobs are never lost: every failed job of this site becomes a Failed Job record.

Frappe v15 keeps a failed job only in RQ's failed registry: 7 days, and at most 1,000 per queue
for the whole bench (`truncate_failed_registry`), with no Retry. Here:

- `record_failed_run` (an `after_job` hook, so for every app's jobs) records a failure in the
  worker, as the job fails and before RQ sees it: once a queue's failed registry holds 1,000 jobs,
  Frappe's `truncate_failed_registry` keeps the oldest and drops each newer one at the next
  failure, long before any scheduled read. `capture_failed_jobs` (scheduler, every minute) reads
  this site's ids from each queue's failed registry and records what the hook could not see: jobs
  that failed before they started (an unknown method) and jobs whose worker was killed. This
  app's own jobs also go through their failure callback (`record_failure_callback`, called from
  `myapp.utils.jobs.release_claim_on_failure`).
  Each RQ job is counted once (its id is kept on the record, checked under a row lock), and the
  same method with the same arguments is one record (a unique `dedup_key`) whose `attempts` grow.
- A `Job Retry Policy` matching the method and a transient exception type schedules an automatic
  retry (`next_retry_at`, backoff from `myapp.utils.retry`); the capture enqueues due retries.
  A policy's job that gives up stays Open and its people are told once per method per quiet period.
- A retry runs the same method with the same arguments as the same user on the same queue under
  a new job id `myapp-failed-job::<record>::<hash>`: its callbacks find the record by that id.
- An import must not be run again from the start: its Retry resumes through `start_import`.
"""

import fnmatch
import hashlib
import importlib
import json
import re
import sys
import types
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import NamedTuple

import frappe
from frappe import _
from frappe.utils import add_to_date, cint, escape_html, flt, get_datetime, now_datetime

from myapp.utils.jobs import job_site_callback
from myapp.utils.notify import email_addresses, users_with_role
from myapp.utils.retry import backoff_seconds, redact
from myapp.utils.savepoint import transaction_lost

DOCTYPE = "Failed Job"
POLICY_DOCTYPE = "Job Retry Policy"
RETRY_JOB_PREFIX = "myapp-failed-job"
RETRY_JOB_ID = re.compile(rf"(?:^|::){RETRY_JOB_PREFIX}::(?P<name>[^:]+)::")
OPEN_STATUSES = ("Open", "Retrying", "Retried")

# Argument keys whose values are secrets (as Frappe's traceback sanitizer: password, secret,
# token, key, ...), matched as parts of the lower-cased key.
SECRET_KEY_PARTS = (
	"password", "passwd", "pwd", "secret", "token", "api_key", "apikey", "access_key",
	"private_key", "authorization", "credential", "cookie", "sid",
)  # fmt: skip
SECRET_KEYS = ("key", "auth")
PLACEHOLDER = "********"
MAX_VALUE_CHARS = 1000
MAX_LIST_ITEMS = 100
MAX_TEXT_CHARS = 60_000
MAX_MESSAGE_CHARS = 2000
# the newest failed job ids kept on a record: enough to stay idempotent while RQ still holds them
MAX_JOB_IDS = 200
# Redis set of this site's failed job ids already recorded: the capture skips them without a query
RECORDED_SET_TTL = 8 * 24 * 60 * 60  # RQ keeps a failed job 7 days
DUE_RETRIES_PER_RUN = 100
DEADLOCK_TRIES = 3


class ResumeInstead(NamedTuple):
	note: str  # why the job is not retried as it was (translated where shown)
	resume: str  # dotted path of what resumes its work, called with the Failed Job


# Jobs that must not run again as they were: Retry resumes their work instead.
RESUME_INSTEAD = {
	"myapp.importer.run_csv_import": ResumeInstead(
		"An import that failed may have saved part of its rows, so it is never retried automatically. "
		"Retry resumes it through Start Import, after the last saved row.",
		"myapp.job_center.resume_import",
	),
	"myapp.tasks.process_invoices_batch": ResumeInstead(
		"A failed batch stopped its Invoice Processing Run, and the same batch job would find its run "
		"stopped and do nothing. Retry starts a new run over the invoices still unprocessed.",
		"myapp.job_center.resume_invoice_processing",
	),
}


class RetryNotPossibleError(frappe.ValidationError):
	pass


@dataclass
class Failure:
	"""One failed run of a job, from RQ's failed registry or from its failure callback."""

	method: str
	job_id: str
	site: str
	queue: str | None = None
	user: str | None = None
	kwargs: dict = field(default_factory=dict)
	exception_type: str = ""
	exception_message: str = ""
	traceback: str = ""
	started_at: object = None  # system time zone, naive
	failed_at: object = None


# --- arguments: secrets redacted, large values cut ------------------------------------------------


def is_secret_key(key) -> bool:
	key = str(key).lower()
	return key in SECRET_KEYS or any(part in key for part in SECRET_KEY_PARTS)


def redact_arguments(kwargs: dict) -> tuple[str, bool, list[str]]:
	"""(JSON of `kwargs` for the record, whether it holds them in full, the secret values found)."""
	secrets = []
	complete = True

	def clean(value, key=None):
		nonlocal complete
		if key is not None and is_secret_key(key) and value not in (None, ""):
			complete = False
			if isinstance(value, str | int | float):
				secrets.append(str(value))
			return PLACEHOLDER
		if isinstance(value, dict):
			return {str(k): clean(v, k) for k, v in value.items()}
		if isinstance(value, list | tuple):
			if len(value) > MAX_LIST_ITEMS:
				complete = False
				return [clean(v) for v in value[:MAX_LIST_ITEMS]] + [
					f"... {len(value) - MAX_LIST_ITEMS} more items cut"
				]
			if isinstance(value, tuple):
				complete = False  # JSON would bring it back as a list
			return [clean(v) for v in value]
		if value is None or isinstance(value, bool | int | float):
			return value
		if not isinstance(value, str):
			complete = False  # a date or a document: JSON keeps only its text
			value = str(value)
		if len(value) > MAX_VALUE_CHARS:
			complete = False
			return value[:MAX_VALUE_CHARS] + f"... ({len(value) - MAX_VALUE_CHARS} characters cut)"
		return value

	cleaned = clean(kwargs or {})
	# longest first: a secret containing another is replaced whole
	secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)
	return json.dumps(cleaned, sort_keys=True, indent=1, default=str), complete, secrets


def dedup_key(method: str, arguments_json: str) -> str:
	# of the stored (redacted) arguments: no secret goes into the hash
	return hashlib.sha256(f"{method}\n{arguments_json}".encode()).hexdigest()


# --- failures from RQ -------------------------------------------------------------------------------


def job_method(job) -> str:
	method = (job.kwargs or {}).get("method")
	if isinstance(method, str):
		return method
	if method is not None:
		return f"{method.__module__}.{method.__qualname__}"
	return (job.kwargs or {}).get("job_name") or job.func_name


def queue_type(job) -> str | None:
	from frappe.utils import get_bench_id

	if not job.origin:
		return None
	return job.origin.removeprefix(f"{get_bench_id()}:")


def exception_name(exc_type) -> str:
	module = getattr(exc_type, "__module__", "")
	name = getattr(exc_type, "__qualname__", str(exc_type))
	return name if module in ("builtins", "__main__", "") else f"{module}.{name}"


def _system_time(utc_naive):
	from frappe.utils import convert_utc_to_system_timezone

	if not utc_naive:
		return None
	return convert_utc_to_system_timezone(utc_naive).replace(tzinfo=None)


def _job_failure(job, **values) -> Failure:
	kwargs = job.kwargs or {}
	return Failure(
		method=job_method(job),
		job_id=job.id,
		site=kwargs.get("site"),
		queue=queue_type(job),
		user=kwargs.get("user"),
		kwargs=dict(kwargs.get("kwargs") or {}),
		started_at=_system_time(job.started_at),
		failed_at=_system_time(job.ended_at) or now_datetime(),
		**values,
	)


def failure_from_job(job) -> Failure:
	"""A job of RQ's failed registry: the exception from the traceback RQ stored."""
	exc_string = stored_exc_string(job)
	exception_type, message = parse_exception(exc_string)
	return _job_failure(job, exception_type=exception_type, exception_message=message, traceback=exc_string)


def failure_from_callback(job, exc_type, exc_value, tb) -> Failure:
	import traceback

	if isinstance(tb, types.TracebackType):
		text = "".join(traceback.format_exception(exc_type, exc_value, tb))
	else:
		# an abandoned job (rq's StartedJobRegistry.cleanup passes a stack, not a traceback)
		text = _(
			"The job was abandoned: its worker stopped (killed, or lost its heartbeat) while running it."
		)
	return _job_failure(
		job, exception_type=exception_name(exc_type), exception_message=str(exc_value), traceback=text
	)


def stored_exc_string(job) -> str:
	import warnings

	from rq.results import Result

	try:
		result = job.latest_result()
	except Exception:
		result = None
	if result is not None and result.type == Result.Type.FAILED and result.exc_string:
		return result.exc_string
	with warnings.catch_warnings():
		warnings.simplefilter("ignore", DeprecationWarning)
		return job.exc_info or ""


_EXCEPTION_LINE = re.compile(r"^(?P<type>[A-Za-z_][\w.]*)(?::\s?(?P<message>.*))?$")


def parse_exception(exc_string: str) -> tuple[str, str]:
	"""(exception type, message) from a traceback's last exception line, or from RQ's own text
	for a job whose work horse died."""
	text = (exc_string or "").strip()
	if text.startswith("Work-horse terminated unexpectedly"):
		return "WorkHorseTerminated", text
	if "AbandonedJobError" in text and text.startswith("Moved to"):
		return "rq.exceptions.AbandonedJobError", text
	lines = text.splitlines()
	for index in range(len(lines) - 1, -1, -1):
		line = lines[index]
		if line[:1].isspace():
			continue
		match = _EXCEPTION_LINE.match(line)
		if match:
			message = "\n".join([match.group("message") or "", *lines[index + 1 :]]).strip()
			return match.group("type"), message
	return "", text[-MAX_MESSAGE_CHARS:]


def record_of_retry_job(job_id: str | None) -> str | None:
	"""The Failed Job a retry job was enqueued for, from the retry's job id."""
	match = RETRY_JOB_ID.search(job_id or "")
	return match.group("name") if match else None


# --- recording ----------------------------------------------------------------------------------------


def record_failure(failure: Failure) -> str:
	"""Record one failed run (idempotent by job id) and plan what follows; the caller commits.

	Deadlocks of concurrent captures on the same new record are tried again a few times."""
	for attempt in range(DEADLOCK_TRIES):
		frappe.db.savepoint("myapp_record_failure")
		try:
			return _record_failure(failure)
		except Exception as e:
			if not transaction_lost(e) or attempt == DEADLOCK_TRIES - 1:
				raise
			# InnoDB rolled the whole transaction back: nothing to keep
			frappe.db.rollback()


def _record_failure(failure: Failure) -> str:
	arguments, complete, secrets = redact_arguments(failure.kwargs)
	message = redact(failure.exception_message, *secrets)[:MAX_MESSAGE_CHARS]
	traceback_text = redact(failure.traceback, *secrets)[-MAX_TEXT_CHARS:]
	error_log = find_error_log(failure)

	name = record_of_retry_job(failure.job_id)
	if name and not frappe.db.exists(DOCTYPE, name):
		name = None  # the record was deleted: record the failure as new
	if not name:
		key = dedup_key(failure.method, arguments)
		name = frappe.db.get_value(DOCTYPE, {"dedup_key": key})
		if not name:
			doc = frappe.get_doc(
				{
					"doctype": DOCTYPE,
					"method": failure.method,
					"queue": failure.queue,
					"site": failure.site,
					"user": failure.user if frappe.db.exists("User", failure.user) else None,
					"arguments": arguments,
					"arguments_complete": 1 if complete else 0,
					"dedup_key": key,
					"status": "Open",
					"attempts": 1,
					"first_failed_at": failure.failed_at,
				}
			)
			# named now, as autoname "hash" would: a notification sent before the insert links to it
			doc.name = frappe.generate_hash(length=10)
			doc.flags.name_set = True
			_set_failure(doc, failure, message, traceback_text, error_log)
			plan_next(doc)
			doc.flags.from_job_center = True
			doc.flags.ignore_links = True  # its Error Log or user may be gone by now
			frappe.db.savepoint("myapp_failed_job_insert")
			try:
				doc.insert(ignore_permissions=True)
				return doc.name
			except (frappe.UniqueValidationError, frappe.DuplicateEntryError):
				# another worker recorded it first: count this run on its record
				frappe.db.rollback(save_point="myapp_failed_job_insert")
				_drop_last_message()
				name = _locked_name(key)

	doc = frappe.get_doc(DOCTYPE, name, for_update=True)  # a locking read sees the latest commit
	if failure.job_id in (doc.job_ids or "").split():
		return doc.name
	if doc.status == "Resolved" and not record_of_retry_job(failure.job_id):
		# it had been fixed: a new episode of the same failure
		doc.attempts = 0
		doc.first_failed_at = failure.failed_at
		doc.notified_at = None
	doc.attempts = cint(doc.attempts) + 1
	if doc.status != "Ignored":
		doc.status = "Open"
	doc.queue = failure.queue or doc.queue
	_set_failure(doc, failure, message, traceback_text, error_log)
	plan_next(doc)
	doc.flags.from_job_center = True
	doc.flags.ignore_links = True
	doc.save(ignore_permissions=True)
	return doc.name


def _locked_name(key: str) -> str:
	return frappe.db.sql(f"select name from `tab{DOCTYPE}` where dedup_key=%s for update", key)[0][0]


def _drop_last_message():
	# the "must be unique" message Frappe added for the duplicate insert we expected
	message_log = getattr(frappe.local, "message_log", None)
	if message_log:
		message_log.pop()


def _set_failure(doc, failure: Failure, message: str, traceback_text: str, error_log: str | None):
	job_ids = [*(doc.job_ids or "").split(), failure.job_id]
	doc.job_ids = "\n".join(job_ids[-MAX_JOB_IDS:])
	failed_at = get_datetime(failure.failed_at)
	if doc.first_failed_at and failed_at < get_datetime(doc.first_failed_at):
		doc.first_failed_at = failed_at
	if doc.last_failed_at and failed_at < get_datetime(doc.last_failed_at):
		return  # an older run recorded late (a capture reads new ids in no particular order)
	doc.job_id = failure.job_id
	doc.last_failed_at = failed_at
	doc.exception_type = failure.exception_type
	doc.exception_message = message
	doc.traceback = traceback_text
	doc.error_log = error_log


def find_error_log(failure: Failure) -> str | None:
	"""The Error Log `execute_job` wrote for this run (titled with the method), if any."""
	if not failure.started_at:
		return None
	logs = frappe.get_all(
		"Error Log",
		filters=[
			["method", "=", failure.method],
			["creation", ">=", add_to_date(failure.started_at, seconds=-1)],
			["creation", "<=", add_to_date(failure.failed_at, seconds=5)],
		],
		pluck="name",
		order_by="creation desc",
		limit=1,
	)
	return logs[0] if logs else None


# --- policies -------------------------------------------------------------------------------------------


def matching_policy(method: str):
	"""The most specific enabled Job Retry Policy whose pattern matches `method` (an exact path
	before any pattern, then the longest pattern), or None."""
	if method in RESUME_INSTEAD:
		return None
	policies = frappe.get_all(
		POLICY_DOCTYPE,
		filters={"enabled": 1},
		fields=[
			"name", "method_pattern", "max_attempts", "backoff_base_seconds", "backoff_factor",
			"max_backoff_seconds", "jitter", "transient_exceptions", "notify_role", "quiet_period_minutes",
		],
	)  # fmt: skip
	matching = [p for p in policies if fnmatch.fnmatchcase(method, (p.method_pattern or "").strip())]
	if not matching:
		return None
	return min(matching, key=lambda p: (p.method_pattern != method, -len(p.method_pattern)))


def transient_types(policy) -> list[str]:
	return [line.strip() for line in (policy.transient_exceptions or "").splitlines() if line.strip()]


def is_transient(exception_type: str, policy) -> bool:
	"""Whether the recorded exception is one of the policy's types, or a subclass of one."""
	if not exception_type:
		return False
	recorded = _exception_class(exception_type)
	for listed in transient_types(policy):
		if listed == exception_type or ("." not in listed and exception_type.rsplit(".", 1)[-1] == listed):
			return True
		cls = _exception_class(listed)
		if recorded and cls and issubclass(recorded, cls):
			return True
	return False


def _exception_class(path: str):
	module_name, name = path.rsplit(".", 1) if "." in path else ("builtins", path)
	try:
		module = sys.modules.get(module_name) or importlib.import_module(module_name)
		cls = getattr(module, name)
	except Exception:
		return None
	return cls if isinstance(cls, type) and issubclass(cls, BaseException) else None


def plan_next(doc):
	"""After a failure: a retry at its due time when a policy allows one, else Open (and the
	policy's people told when its job gives up)."""
	doc.next_retry_at = None
	if doc.method in RESUME_INSTEAD:
		doc.retry_note = _(RESUME_INSTEAD[doc.method].note)
		return
	policy = matching_policy(doc.method)
	doc.retry_policy = policy.name if policy else None
	if not policy or doc.status == "Ignored":
		return
	if not is_transient(doc.exception_type, policy):
		doc.retry_note = _(
			"{0} is not one of the policy's transient exceptions: not retried automatically."
		).format(doc.exception_type or _("This error"))
	elif cint(doc.attempts) < cint(policy.max_attempts):
		delay = backoff_seconds(
			cint(doc.attempts),
			base=cint(policy.backoff_base_seconds),
			cap=cint(policy.max_backoff_seconds) or cint(policy.backoff_base_seconds),
			factor=flt(policy.backoff_factor) or 2,
			jitter=bool(cint(policy.jitter)),
		)
		doc.status = "Retrying"
		doc.next_retry_at = add_to_date(now_datetime(), seconds=delay)
		doc.retry_note = _("Retry {0} of {1} is due at {2}.").format(
			cint(doc.attempts) + 1, cint(policy.max_attempts), doc.next_retry_at
		)
		return
	else:
		doc.retry_note = _("Gave up after {0} attempts (policy maximum {1}).").format(
			cint(doc.attempts), cint(policy.max_attempts)
		)
	notify_gave_up(doc, policy)


def notify_gave_up(doc, policy) -> bool:
	"""One email per method per quiet period to the policy's role, however many records give up."""
	now = now_datetime()
	# serialises concurrent give-ups of the policy's methods, so two workers do not both send
	frappe.db.sql(f"select name from `tab{POLICY_DOCTYPE}` where name=%s for update", policy.name)
	since = add_to_date(now, minutes=-cint(policy.quiet_period_minutes))
	# a locking read: the latest committed notification, not this transaction's snapshot
	if frappe.db.sql(
		f"select name from `tab{DOCTYPE}` where method=%s and notified_at >= %s limit 1 for update",
		(doc.method, since),
	):
		return False
	recipients = email_addresses(users_with_role(policy.notify_role or "System Manager"))
	doc.notified_at = now
	if not recipients:
		frappe.logger("myapp.job_center").warning(f"{doc.method} gave up; no one holds {policy.notify_role}")
		return False
	frappe.sendmail(
		recipients=recipients,
		subject=_("Background job gave up: {0} ({1})").format(doc.method, frappe.local.site),
		message=_(
			"<p>{0} failed {1} times and will not be retried automatically.</p>"
			"<p>Last error: <b>{2}</b>: {3}</p>"
			"<p>Open the Failed Job records to retry or ignore them. Further failures of this method "
			"are not emailed for {4} minutes.</p>"
		).format(
			escape_html(doc.method),
			cint(doc.attempts),
			escape_html(doc.exception_type or ""),
			escape_html((doc.exception_message or "")[:300]),
			cint(policy.quiet_period_minutes),
		),
		reference_doctype=DOCTYPE,
		reference_name=doc.name,
	)
	return True


# --- the scheduler event ----------------------------------------------------------------------------


def recorded_set_key() -> str:
	return f"myapp:failed-jobs-recorded:{frappe.local.site}"


def capture_failed_jobs() -> dict:
	"""Scheduler event (cron, every minute): record this site's new failed jobs, then enqueue the
	retries that are due. Idempotent, and safe to run on several workers at once."""
	from frappe.utils import create_batch
	from frappe.utils.background_jobs import get_redis_conn
	from rq.job import Job

	connection = get_redis_conn()
	recover_abandoned_jobs()
	in_registry = site_failed_job_ids(connection)
	key = recorded_set_key()
	seen = {member.decode() for member in connection.smembers(key)}
	recorded, errors = 0, 0
	for batch in create_batch(sorted(set(in_registry) - seen), 100):
		for job in Job.fetch_many(batch, connection=connection):
			if job is None:
				continue  # expired or deleted between the read and now
			try:
				record_failure(failure_from_job(job))
				frappe.db.commit()
			except Exception:
				frappe.db.rollback()
				errors += 1
				frappe.log_error(title=_("Failed Job capture: could not record {0}").format(job.id))
				frappe.db.commit()
				continue
			connection.sadd(key, job.id)
			recorded += 1
	# forget the ids RQ no longer holds (expired or truncated): the set stays as small as the registries
	gone = seen - set(in_registry)
	if gone:
		connection.srem(key, *gone)
	connection.expire(key, RECORDED_SET_TTL)
	retries = enqueue_due_retries()
	return {"recorded": recorded, "errors": errors, "retries_enqueued": retries}


def site_failed_job_ids(connection) -> list[str]:
	"""This site's job ids in every queue's failed registry, read from the registry's key: the
	registry's get_job_ids() would run its cleanup first."""
	from frappe.utils.background_jobs import get_queue, get_queue_list

	prefix = f"{frappe.local.site}::"
	ids = []
	for queue in get_queue_list():
		registry = get_queue(queue).failed_job_registry
		ids.extend(
			i.decode() for i in connection.zrange(registry.key, 0, -1) if i.decode().startswith(prefix)
		)
	return ids


def recover_abandoned_jobs():
	"""Move jobs whose worker died (SIGKILL, OOM, a lost machine) from the started to the failed
	registries, as each worker's maintenance does every 10 minutes and v15's RQ Job list does on
	every load. rq runs their failure callbacks here, inside this site's context: this app's
	callbacks (job_site_callback) join this transaction, or run on their own thread for another site."""
	from frappe.utils.background_jobs import get_queue, get_queue_list

	for queue in get_queue_list():
		try:
			get_queue(queue).started_job_registry.cleanup()
		except Exception:
			frappe.db.rollback()
			frappe.log_error(title=_("Failed Job capture: abandoned jobs of queue {0}").format(queue))
		frappe.db.commit()


# --- retries ------------------------------------------------------------------------------------------


def enqueue_due_retries(now=None) -> int:
	"""Enqueue the automatic retries whose time has come (v15 workers run no RQ scheduler)."""
	now = now or now_datetime()
	due = frappe.get_all(
		DOCTYPE,
		filters={"status": "Retrying", "next_retry_at": ("<=", now)},
		pluck="name",
		order_by="next_retry_at asc",
		limit=DUE_RETRIES_PER_RUN,
	)
	enqueued = 0
	for name in due:
		try:
			doc = frappe.get_doc(DOCTYPE, name, for_update=True)
			# another capture may have taken it since the list was read
			if doc.status != "Retrying" or not doc.next_retry_at or get_datetime(doc.next_retry_at) > now:
				frappe.db.rollback()
				continue
			try:
				method, kwargs = original_call(doc)
			except RetryNotPossibleError as e:
				doc.status, doc.next_retry_at, doc.retry_note = "Open", None, str(e)
				_drop_last_message()
				doc.flags.from_job_center = True
				doc.flags.ignore_links = True
				doc.save(ignore_permissions=True)
			else:
				enqueue_retry(doc, method, kwargs)
				enqueued += 1
			frappe.db.commit()
		except Exception:
			frappe.db.rollback()
			frappe.log_error(title=_("Failed Job {0}: automatic retry not enqueued").format(name))
			frappe.db.commit()
	return enqueued


def original_call(doc) -> tuple:
	"""(method, keyword arguments) of the last failed run: RQ's copy while it has one (secrets
	included; the method as it was enqueued, a path or a function), else the record's method and
	arguments when it holds them in full."""
	from frappe.utils.background_jobs import get_redis_conn
	from rq.exceptions import NoSuchJobError
	from rq.job import Job

	if doc.job_id:
		try:
			job = Job.fetch(doc.job_id, connection=get_redis_conn())
			job_kwargs = job.kwargs or {}
			return job_kwargs.get("method") or doc.method, dict(job_kwargs.get("kwargs") or {})
		except NoSuchJobError:
			pass
	if cint(doc.arguments_complete):
		return doc.method, json.loads(doc.arguments or "{}")
	frappe.throw(
		_(
			"The queue no longer holds this job, and its stored arguments had secrets or long values removed. "
			"Retry with edited arguments instead."
		),
		RetryNotPossibleError,
	)


def retry_failed_job(name: str, arguments: str | dict | None = None) -> dict:
	"""Retry now, as the job's user, on its queue; `arguments` (a JSON object) replaces the
	job's arguments for this retry and is recorded. The caller checks the permission."""
	from myapp.utils.arguments import parse_json_argument

	doc = frappe.get_doc(DOCTYPE, name, for_update=True)
	if doc.status == "Retrying" and retry_job_active(doc):
		frappe.throw(_("A retry of this job is queued or running."), RetryNotPossibleError)
	if doc.method in RESUME_INSTEAD:
		return resume_instead(doc)
	edited = arguments not in (None, "")
	if edited:
		method = doc.method
		kwargs = parse_json_argument(arguments, _("Arguments"))
		if not isinstance(kwargs, dict):
			frappe.throw(_("Arguments must be a JSON object of keyword arguments"), frappe.ValidationError)
		stored, _complete, _secrets = redact_arguments(kwargs)
		doc.edited_arguments = stored
		doc.add_comment("Info", _("Retried with edited arguments by {0}").format(frappe.session.user))
	else:
		method, kwargs = original_call(doc)
	job_id = enqueue_retry(doc, method, kwargs, acted_by=frappe.session.user)
	return {"name": doc.name, "job_id": job_id, "status": doc.status}


def retry_job_active(doc) -> bool:
	from frappe.utils.background_jobs import get_redis_conn
	from rq.exceptions import NoSuchJobError
	from rq.job import Job

	if not doc.last_retry_job_id:
		return False  # at most scheduled: a retry now replaces it
	try:
		job = Job.fetch(doc.last_retry_job_id, connection=get_redis_conn())
	except NoSuchJobError:
		return False
	return job.get_status() in ("queued", "started", "deferred", "scheduled")


@contextmanager
def session_user(user: str | None):
	"""`frappe.session.user` as `user` for the block: frappe.enqueue stores it as the job's user.
	Not frappe.set_user, which would reset a request's session data and form_dict."""
	previous = frappe.local.session
	if not user or user == previous.get("user") or not frappe.db.exists("User", user):
		yield
		return
	frappe.local.session = frappe._dict(previous, user=user)
	try:
		yield
	finally:
		frappe.local.session = previous


def enqueue_retry(doc, method, kwargs: dict, acted_by: str | None = None) -> str:
	"""Enqueue the job again under a new id that names this record; the record becomes Retrying."""
	from frappe.utils.background_jobs import create_job_id

	job_id = f"{RETRY_JOB_PREFIX}::{doc.name}::{frappe.generate_hash(length=8)}"
	with session_user(doc.user):
		frappe.enqueue(
			method,
			queue=doc.queue or "default",
			job_id=job_id,
			on_success="myapp.job_center.retry_succeeded",
			on_failure="myapp.job_center.retry_failed",
			**kwargs,
		)
	doc.status = "Retrying"
	doc.next_retry_at = None
	doc.last_retry_job_id = create_job_id(job_id)
	if acted_by:
		doc.acted_by = acted_by
	doc.flags.from_job_center = True
	doc.flags.ignore_links = True
	doc.save(ignore_permissions=True)
	return doc.last_retry_job_id


def resume_instead(doc) -> dict:
	"""Resume the failed job's work as its user (RESUME_INSTEAD): the record is Retried and says
	where to follow the resumed work."""
	resumed = frappe.get_attr(RESUME_INSTEAD[doc.method].resume)(doc)
	doc.status = "Retried"
	doc.next_retry_at = None
	doc.last_retry_job_id = resumed.get("job_id")
	doc.acted_by = frappe.session.user
	doc.retry_note = resumed.pop("note")
	doc.flags.from_job_center = True
	doc.flags.ignore_links = True
	doc.save(ignore_permissions=True)
	return {"name": doc.name, "status": doc.status, **resumed}


def resume_import(doc) -> dict:
	"""An import resumes after its last saved row (myapp.importer.start_import)."""
	from myapp.importer import start_import

	import_log = json.loads(doc.arguments or "{}").get("import_log_name")
	if not import_log or not frappe.db.exists("CSV Import Log", import_log):
		frappe.throw(_("The CSV Import Log of this import no longer exists."), RetryNotPossibleError)
	with session_user(doc.user):
		result = start_import(import_log)
	note = _("Resumed through Start Import of CSV Import Log {0}; follow it there.").format(import_log)
	return {"job_id": result.get("job_id"), "import_log": import_log, "note": note}


def resume_invoice_processing(doc) -> dict:
	"""A new Invoice Processing Run over the invoices still unprocessed (myapp.invoices.start_run),
	with the failed batch's size."""
	from frappe.utils.background_jobs import create_job_id

	from myapp.invoices import START_JOB_ID, start_run

	batch_size = json.loads(doc.arguments or "{}").get("batch_size")
	with session_user(doc.user):
		result = start_run(batch_size)
	if not result.get("run"):
		return {"job_id": None, "run": None, "note": result.get("message") or ""}
	note = _("Resumed as Invoice Processing Run {0}; follow it there.").format(result["run"])
	return {"job_id": create_job_id(START_JOB_ID), "run": result["run"], "note": note}


# --- RQ callbacks (no site context in a worker: job_site_callback opens it) ------------------------


@job_site_callback
def _resolve_retry(job, connection, result, *args, **kwargs):
	name = record_of_retry_job(job.id)
	if not name or not frappe.db.exists(DOCTYPE, name):
		return
	doc = frappe.get_doc(DOCTYPE, name, for_update=True)
	doc.attempts = cint(doc.attempts) + 1
	doc.status = "Resolved"
	doc.next_retry_at = None
	doc.resolved_at = now_datetime()
	doc.retry_note = _("Retry {0} succeeded.").format(job.id)
	doc.flags.from_job_center = True
	doc.flags.ignore_links = True
	doc.save(ignore_permissions=True)


def retry_succeeded(job, connection, result, *args, **kwargs):
	"""on_success of a retry: its record is Resolved."""
	try:
		_resolve_retry(job, connection, result)
	except Exception:
		# an exception here would make RQ fail the job that just succeeded
		frappe.logger("myapp.job_center").exception(f"Could not resolve the Failed Job of {job.id}")


def retry_failed(job, connection, exc_type, exc_value, tb):
	"""on_failure of a retry: Frappe's default failure callback, then the failure is recorded."""
	from frappe.utils.background_jobs import truncate_failed_registry

	truncate_failed_registry(job, connection, exc_type, exc_value, tb)
	record_failure_callback(job, connection, exc_type, exc_value, tb)


@job_site_callback
def _record_from_callback(job, connection, exc_type, exc_value, tb):
	record_failure(failure_from_callback(job, exc_type, exc_value, tb))


def record_failed_run(method=None, kwargs=None, result=None):
	"""`after_job` hook: Frappe calls it in the `finally` of `execute_job`, after the failed job's
	rollback and its Error Log, where `sys.exc_info()` still holds the job's exception. Records the
	failure at once and commits (the job's own work is already rolled back). Never raises: the
	job's exception must stay what RQ stores."""
	from rq import get_current_job

	exc_type, exc_value, tb = sys.exc_info()
	if exc_type is None:
		return
	job = get_current_job()
	# a job run in-process (`now=True`) from inside another job is not the worker's job
	if job is None or job_method(job) != method:
		return
	try:
		record_failure(failure_from_callback(job, exc_type, exc_value, tb))
		frappe.db.commit()
		job.connection.sadd(recorded_set_key(), job.id)
	except Exception:
		frappe.db.rollback()
		frappe.logger("myapp.job_center").exception(f"Could not record the failure of {job.id}")


def record_failure_callback(job, connection, exc_type, exc_value, tb):
	"""Record a failure from an on_failure callback, at once and with its real exception. Never
	raises (RQ would store the callback's error instead of the job's): the capture finds the job
	in the failed registry later anyway."""
	try:
		_record_from_callback(job, connection, exc_type, exc_value, tb)
	except Exception:
		frappe.logger("myapp.job_center").exception(f"Could not record the failure of {job.id}")


# --- operator views (bench commands) ------------------------------------------------------------------


def queue_counts() -> list[dict]:
	"""Per queue: queued, running and failed jobs, of this site and of the whole bench."""
	from frappe.utils.background_jobs import get_queue, get_queue_list

	prefix = f"{frappe.local.site}::"
	rows = []
	for name in get_queue_list():
		queue = get_queue(name)
		connection = queue.connection
		queued = [i.decode() for i in connection.lrange(queue.key, 0, -1)]
		started = [i.decode() for i in connection.zrange(queue.started_job_registry.key, 0, -1)]
		failed = [i.decode() for i in connection.zrange(queue.failed_job_registry.key, 0, -1)]
		rows.append(
			{
				"queue": name,
				"queued": sum(i.startswith(prefix) for i in queued),
				"queued_all": len(queued),
				"running": sum(i.startswith(prefix) for i in started),
				"running_all": len(started),
				"failed": sum(i.startswith(prefix) for i in failed),
				"failed_all": len(failed),
			}
		)
	return rows


def failed_job_of(job_id: str) -> str | None:
	"""The Failed Job that recorded the RQ job `job_id`."""
	# its last job id, unless the same failure came again since
	return frappe.db.get_value(DOCTYPE, {"job_id": job_id}) or frappe.db.get_value(
		DOCTYPE, {"job_ids": ("like", f"%{job_id}%")}
	)


def failures_by_method(days: int = 7, limit: int = 10) -> dict:
	"""The workspace chart's data: per method, the Failed Jobs (one per method and arguments)
	whose last failure was in the last `days` days, most first, whatever their status now."""
	frappe.has_permission(DOCTYPE, "read", throw=True)
	rows = frappe.get_list(
		DOCTYPE,
		filters={"last_failed_at": (">=", add_to_date(now_datetime(), days=-days))},
		fields=["method", "count(name) as failed"],
		group_by="method",
		order_by="failed desc, method asc",
		limit=limit,
	)
	return {
		"labels": [row.method for row in rows],
		"datasets": [{"name": _("Failed Jobs"), "values": [row.failed for row in rows]}],
	}


def open_failed_jobs(method: str | None = None, limit: int = 50) -> list:
	filters = {"status": ("in", OPEN_STATUSES)}
	if method:
		filters["method"] = method
	return frappe.get_all(
		DOCTYPE,
		filters=filters,
		fields=["name", "method", "status", "attempts", "exception_type", "last_failed_at", "next_retry_at"],
		order_by="last_failed_at desc",
		limit=limit,
	)
