"""The scheduler tick, as in Frappe v15: per site, if the scheduler is active, queue every
Scheduled Job Type that is due (`ScheduledJobType.enqueue`).

As in v15, a site's scheduler is disabled unless System Settings.enable_scheduler is set
(a fresh site has 0, like `bench new-site`; `bench --site S scheduler enable` sets it), and a
dormant site (no Activity Log for `dormant_days`, developer_mode off) runs its jobs at most
once a day. Tests enable the scheduler with `enable_scheduler()` as an admin would."""

import os
import random
import time

from croniter import CroniterBadCronError

import frappe
from frappe.utils import cint, get_datetime, get_sites, now_datetime
from frappe.utils.background_jobs import set_niceness

DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"

# schedule_jobs_based_on_activity is cached this long in Redis (v15: @redis_cache(ttl=3600))
ACTIVITY_CACHE_TTL = 60 * 60


def cprint(*args, **kwargs):
	"""Prints only if called from a terminal"""
	try:
		os.get_terminal_size()
		print(*args, **kwargs)
	except Exception:
		pass


def start_scheduler():  # pragma: no cover
	"""Tick forever (conf.scheduler_tick_interval, default 60 s); run from the sites folder."""
	tick = get_scheduler_tick()
	set_niceness()

	while True:
		time.sleep(tick)
		enqueue_events_for_all_sites()


def enqueue_events_for_all_sites() -> None:
	"""Loop through sites and enqueue events that are not already queued"""
	with frappe.init_site():
		sites = get_sites()
	# sites are sorted alphabetically: shuffle to randomise priorities
	random.shuffle(sites)

	for site in sites:
		try:
			enqueue_events_for_site(site=site)
		except Exception:
			frappe.logger("scheduler").debug(f"Failed to enqueue events for site: {site}", exc_info=True)


def enqueue_events_for_site(site: str) -> None:
	def log_exc():
		frappe.logger("scheduler").error(f"Exception in Enqueue Events for Site {site}", exc_info=True)

	try:
		frappe.init(site=site)
		frappe.connect()
		if is_scheduler_inactive():
			return

		enqueue_events(site=site)

		frappe.logger("scheduler").debug(f"Queued events for site {site}")
	except Exception as e:
		if _is_access_denied(e):
			frappe.logger("scheduler").debug(f"Access denied for site {site}")
		log_exc()

	finally:
		frappe.destroy()


def _is_access_denied(e):
	db = getattr(frappe.local, "db", None)
	is_access_denied = getattr(db, "is_access_denied", None)
	return bool(is_access_denied and is_access_denied(e))


def enqueue_events(site: str) -> list[str] | None:
	"""Queue the due Scheduled Job Types of the connected site; the methods queued"""
	if schedule_jobs_based_on_activity():
		enqueued_jobs = []
		all_jobs = frappe.get_all("Scheduled Job Type", filters={"stopped": 0}, fields="*")
		random.shuffle(all_jobs)
		for job_type in all_jobs:
			job_type = frappe.get_doc(doctype="Scheduled Job Type", **job_type)
			try:
				if job_type.enqueue():
					enqueued_jobs.append(job_type.method)
			except CroniterBadCronError:
				frappe.logger("scheduler").error(
					f"Invalid Job on {frappe.local.site} - {job_type.name}", exc_info=True
				)

		return enqueued_jobs


def is_scheduler_inactive(verbose=True) -> bool:
	if frappe.local.conf.maintenance_mode:
		if verbose:
			cprint(f"{frappe.local.site}: Maintenance mode is ON")
		return True

	if frappe.local.conf.pause_scheduler:
		if verbose:
			cprint(f"{frappe.local.site}: frappe.conf.pause_scheduler is SET")
		return True

	if is_scheduler_disabled(verbose=verbose):
		return True

	return False


def is_scheduler_disabled(verbose=True) -> bool:
	if frappe.conf.disable_scheduler:
		if verbose:
			cprint(f"{frappe.local.site}: frappe.conf.disable_scheduler is SET")
		return True

	# a missing value (no System Settings saved yet) counts as disabled, as in v15
	scheduler_disabled = not cint(frappe.db.get_single_value("System Settings", "enable_scheduler"))
	if scheduler_disabled:
		if verbose:
			cprint(f"{frappe.local.site}: SystemSettings.enable_scheduler is UNSET")
	return scheduler_disabled


def toggle_scheduler(enable):
	frappe.db.set_single_value("System Settings", "enable_scheduler", int(enable))


def enable_scheduler():
	toggle_scheduler(True)


def disable_scheduler():
	toggle_scheduler(False)


def schedule_jobs_based_on_activity(check_time=None):
	"""True for an active site (Activity Log within dormant_days); a dormant site only when
	no scheduled job ran in the last 24 hours. Cached for an hour per site, as in v15."""
	cache_key = f"{__name__}.schedule_jobs_based_on_activity|{check_time}"
	cached = frappe.cache.get_value(cache_key, expires=True)
	if cached is not None:
		return cached

	result = _schedule_jobs_based_on_activity(check_time)
	frappe.cache.set_value(cache_key, result, expires_in_sec=ACTIVITY_CACHE_TTL)
	return result


def _clear_activity_cache():
	frappe.cache.delete_keys(f"{__name__}.schedule_jobs_based_on_activity|")


# v15's @redis_cache gives the function a clear_cache()
schedule_jobs_based_on_activity.clear_cache = _clear_activity_cache


def _schedule_jobs_based_on_activity(check_time=None):
	if is_dormant(check_time=check_time):
		# a dormant site runs its jobs once a day
		last_job_timestamp = _get_last_modified_timestamp("Scheduled Job Log")
		if not last_job_timestamp:
			return True
		return ((check_time or now_datetime()) - last_job_timestamp).total_seconds() >= 86400
	return True


def is_dormant(check_time=None):
	# never dormant in developer_mode
	if frappe.conf.developer_mode:
		return False
	last_activity_log_timestamp = _get_last_modified_timestamp("Activity Log")
	since = (cint(frappe.db.get_single_value("System Settings", "dormant_days")) or 4) * 86400
	if not last_activity_log_timestamp:
		return True
	return ((check_time or now_datetime()) - last_activity_log_timestamp).total_seconds() >= since


def _get_last_modified_timestamp(doctype):
	timestamp = frappe.db.get_value(doctype, filters={}, fieldname="modified", order_by="modified desc")
	if timestamp:
		return get_datetime(timestamp)


@frappe.whitelist()
def activate_scheduler():
	frappe.only_for("Administrator")

	if frappe.local.conf.maintenance_mode:
		frappe.throw(frappe._("Scheduler can not be re-enabled when maintenance mode is active."))

	if is_scheduler_disabled():
		enable_scheduler()
	if frappe.conf.pause_scheduler:
		# v15 writes site_config.json through frappe.installer.update_site_config
		from frappe.installer import update_site_config

		update_site_config("pause_scheduler", 0)


@frappe.whitelist()
def get_scheduler_status():
	if is_scheduler_inactive():
		return {"status": "inactive"}
	return {"status": "active"}


def get_scheduler_tick() -> int:
	return cint(frappe.get_conf().scheduler_tick_interval) or 60
