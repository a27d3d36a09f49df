"""Workflow 8: scheduler and background worker health check (cron "*/15 * * * *").

Reads what Frappe v15 itself shows in Scheduled Job Log and in the RQ Worker / RQ Job views
(`get_workers`, `get_queue`, RQ's failed job registries) and adds the alerting: an email to the
recipients of Scheduler Health Settings plus an Error Log entry. A condition that is still
present alerts again only after the quiet period; a condition that has cleared is reported once
as recovered. The open conditions are kept in Scheduler Health Settings' `alert_state`.
"""

import datetime
import json

import frappe
from frappe import _
from frappe.utils import add_to_date, cint, get_datetime, now_datetime, split_emails, validate_email_address

from myapp.utils.notify import email_addresses, users_with_role

SETTINGS = "Scheduler Health Settings"
QUEUES = ("short", "default", "long")
LOOKBACK_HOURS = 1
# A "Start" log older than this is an old crash, reported while it was recent; not stuck forever.
STUCK_LOOKBACK_HOURS = 24
MAX_NAMES_LISTED = 5


def scheduler_health_check() -> dict:
	"""The scheduled entry point (no arguments)."""
	return run_health_check()


def run_health_check(now: datetime.datetime | None = None) -> dict:
	"""Check, alert on new conditions (or ones past the quiet period), note recoveries.

	`now` (system time zone) lets a test stand later than the real clock; the job passes none.
	"""
	settings = frappe.get_single(SETTINGS)
	if not settings.enabled:
		frappe.logger("myapp.health").info("Scheduler health check: disabled in Scheduler Health Settings")
		return {"issues": {}, "alerted": [], "recovered": []}

	now = now or now_datetime()
	issues = find_issues(settings, now)
	previous_state = load_state(settings)
	to_alert, recovered, state = plan_alerts(issues, previous_state, now, cint(settings.quiet_period_minutes))

	if to_alert:
		send_alert(settings, to_alert, ongoing={k: v for k, v in issues.items() if k not in to_alert})
	if recovered:
		send_recovery(settings, recovered, now)
	if state != previous_state:
		frappe.db.set_single_value(
			SETTINGS, "alert_state", json.dumps(state, sort_keys=True), update_modified=False
		)
	frappe.db.commit()
	return {"issues": issues, "alerted": sorted(to_alert), "recovered": sorted(recovered)}


# --- the checks: {condition key: message} -------------------------------------------------------


def find_issues(settings, now: datetime.datetime) -> dict[str, str]:
	issues = {}
	issues.update(check_failed_scheduled_jobs(now, cint(settings.failed_jobs_threshold)))
	issues.update(check_stuck_scheduled_jobs(now, cint(settings.stuck_job_minutes)))
	try:
		issues.update(check_workers())
		issues.update(check_backlog(settings))
		issues.update(check_failed_background_jobs(now, cint(settings.failed_background_jobs_threshold)))
	except Exception as e:
		# Redis down is the worst condition of all: nothing runs, so say so instead of failing
		issues["queues_unreachable"] = _("The background job queues cannot be read: {0}").format(e)
	return issues


def check_failed_scheduled_jobs(now, threshold: int) -> dict[str, str]:
	since = add_to_date(now, hours=-LOOKBACK_HOURS)
	failed = frappe.get_all(
		"Scheduled Job Log",
		filters={"status": "Failed", "creation": (">=", since)},
		pluck="scheduled_job_type",
	)
	if len(failed) <= threshold:
		return {}
	return {
		"failed_scheduled_jobs": _("{0} scheduled jobs failed in the last hour (threshold {1}): {2}").format(
			len(failed), threshold, names_listed(sorted(set(failed)))
		)
	}


def check_stuck_scheduled_jobs(now, stuck_minutes: int) -> dict[str, str]:
	# A running job's log says "Start" (Frappe never writes "Running").
	stuck = frappe.get_all(
		"Scheduled Job Log",
		filters=[
			["status", "=", "Start"],
			["creation", "<", add_to_date(now, minutes=-stuck_minutes)],
			["creation", ">=", add_to_date(now, hours=-STUCK_LOOKBACK_HOURS)],
		],
		fields=["scheduled_job_type", "creation"],
		order_by="creation asc",
	)
	if not stuck:
		return {}
	jobs = [f"{row.scheduled_job_type} ({_('since {0}').format(row.creation)})" for row in stuck]
	return {
		"stuck_scheduled_jobs": _(
			"{0} scheduled jobs have been running for more than {1} minutes: {2}"
		).format(len(stuck), stuck_minutes, names_listed(jobs))
	}


def check_workers() -> dict[str, str]:
	from frappe.utils.background_jobs import get_queue

	workers = bench_workers()
	if not workers:
		return {
			"no_workers": _("No background worker is running: queued jobs and scheduled jobs do not run.")
		}
	waiting = sum(get_queue(queue).count for queue in QUEUES)
	this_job = current_rq_job_id()
	# the worker running this check is busy with it, and free again right after
	busy = [w for w in workers if w.get_state() == "busy" and w.get_current_job_id() != this_job]
	if waiting and len(busy) == len(workers):
		return {
			"workers_busy": _(
				"All {0} background workers are busy while {1} jobs wait in the queues."
			).format(len(workers), waiting)
		}
	return {}


def check_backlog(settings) -> dict[str, str]:
	from frappe.utils.background_jobs import get_queue

	issues = {}
	for queue in QUEUES:
		threshold = cint(settings.get(f"{queue}_queue_backlog"))
		waiting = get_queue(queue).count
		if waiting > threshold:
			issues[f"backlog:{queue}"] = _("{0} jobs wait in the {1} queue (threshold {2}).").format(
				waiting, queue, threshold
			)
	return issues


def check_failed_background_jobs(now, threshold: int) -> dict[str, str]:
	failed = recent_failed_jobs(since_utc=utc_naive(add_to_date(now, hours=-LOOKBACK_HOURS)))
	if len(failed) <= threshold:
		return {}
	methods = sorted({job.kwargs.get("job_name") or job.kwargs.get("method") or job.id for job in failed})
	return {
		"failed_background_jobs": _(
			"{0} background jobs failed in the last hour (threshold {1}): {2}"
		).format(len(failed), threshold, names_listed([str(m) for m in methods]))
	}


def bench_workers() -> list:
	"""Live RQ workers serving this bench's queues (a worker's key expires without heartbeats)."""
	from frappe.utils.background_jobs import get_queue, get_workers

	queue_names = {get_queue(queue).name for queue in QUEUES}
	return [worker for worker in get_workers() if queue_names & set(worker.queue_names())]


def recent_failed_jobs(since_utc: datetime.datetime) -> list:
	"""This site's jobs in the failed registries of the queues that ended after `since_utc`."""
	from frappe.utils.background_jobs import get_queue, get_redis_conn
	from rq.job import Job

	prefix = f"{frappe.local.site}::"
	job_ids = []
	for queue in QUEUES:
		registry = get_queue(queue).failed_job_registry
		job_ids.extend(job_id for job_id in registry.get_job_ids() if job_id.startswith(prefix))
	if not job_ids:
		return []
	jobs = Job.fetch_many(job_ids, connection=get_redis_conn())
	return [job for job in jobs if job and job.ended_at and job.ended_at >= since_utc]


def current_rq_job_id() -> str | None:
	from rq import get_current_job

	job = get_current_job()
	return job.id if job else None


def utc_naive(system_time: datetime.datetime) -> datetime.datetime:
	"""A naive system-time-zone datetime as naive UTC (RQ stores its times that way)."""
	from zoneinfo import ZoneInfo

	from frappe.utils import get_system_timezone

	aware = system_time.replace(tzinfo=ZoneInfo(get_system_timezone()))
	return aware.astimezone(datetime.timezone.utc).replace(tzinfo=None)


def names_listed(names: list[str]) -> str:
	listed = ", ".join(names[:MAX_NAMES_LISTED])
	if len(names) > MAX_NAMES_LISTED:
		listed += " " + _("and {0} more").format(len(names) - MAX_NAMES_LISTED)
	return listed


# --- alerting -----------------------------------------------------------------------------------


def load_state(settings) -> dict:
	try:
		state = json.loads(settings.alert_state or "{}")
	except ValueError:
		return {}
	return state if isinstance(state, dict) else {}


def plan_alerts(
	issues: dict[str, str], state: dict, now: datetime.datetime, quiet_minutes: int
) -> tuple[dict[str, str], dict[str, dict], dict]:
	"""(to alert now, recovered, new state) from the current issues and the open alerts.

	An issue alerts when it is new or its last alert is at least `quiet_minutes` old; an open
	alert whose condition is gone has recovered and leaves the state."""
	quiet = datetime.timedelta(minutes=quiet_minutes)
	to_alert, new_state = {}, {}
	for key, message in issues.items():
		previous = state.get(key)
		if previous and now - get_datetime(previous["alerted_at"]) < quiet:
			new_state[key] = previous
			continue
		to_alert[key] = message
		new_state[key] = {
			"since": previous["since"] if previous else str(now),
			"alerted_at": str(now),
			"message": message,
		}
	recovered = {key: value for key, value in state.items() if key not in issues}
	return to_alert, recovered, new_state


def alert_recipients(settings) -> list[str]:
	users = users_with_role(settings.recipient_role) if settings.recipient_role else []
	addresses = email_addresses(users) + extra_addresses(settings.extra_recipients)
	return list(dict.fromkeys(addresses))


def extra_addresses(text: str | None) -> list[str]:
	"""Valid addresses of a one-per-line or comma separated list. Frappe drops a whole email
	that has one invalid recipient, and its split_emails joins lines, hence this."""
	addresses = split_emails((text or "").replace("\n", ",").replace(";", ","))
	return [address for address in addresses if validate_email_address(address)]


def send_alert(settings, to_alert: dict[str, str], ongoing: dict[str, str]):
	title = _("Scheduler health: {0} issue(s)").format(len(to_alert))
	frappe.log_error(
		title=title,
		message="\n".join(to_alert.values()),
		reference_doctype=SETTINGS,
		reference_name=SETTINGS,
	)
	sent = email_recipients(
		settings,
		_("Scheduler Health Alert: {0}").format(frappe.local.site),
		"scheduler_health_alert",
		{
			"issues": list(to_alert.values()),
			"ongoing": list(ongoing.values()),
			"quiet_period_minutes": cint(settings.quiet_period_minutes),
		},
	)
	if not sent:
		frappe.logger("myapp.health").warning(f"{title}: no recipients in {SETTINGS}")


def send_recovery(settings, recovered: dict[str, dict], now: datetime.datetime):
	messages = [value.get("message", key) for key, value in recovered.items()]
	frappe.logger("myapp.health").info("Scheduler health recovered: " + " | ".join(messages))
	email_recipients(
		settings,
		_("Scheduler Health Recovered: {0}").format(frappe.local.site),
		"scheduler_health_recovered",
		{
			"recovered": [
				{"message": value.get("message", key), "since": value.get("since")}
				for key, value in recovered.items()
			],
			"now": str(now),
		},
	)


def email_recipients(settings, subject: str, template: str, args: dict) -> bool:
	"""One email about this site to the health check's recipients; False when there are none."""
	recipients = alert_recipients(settings)
	if not recipients:
		return False
	frappe.sendmail(
		recipients=recipients,
		subject=subject,
		template=template,
		args={"site": frappe.local.site, **args},
		reference_doctype=SETTINGS,
		reference_name=SETTINGS,
	)
	return True
