# Testbed: frappe.utils.logger.get_logger as in Frappe v15: a std logging.Logger that writes to
# <sites>/logs/<module>.log and, with a site, to <sites>/<site>/logs/<module>.log.

import logging
import os
from copy import deepcopy
from logging.handlers import RotatingFileHandler

import frappe

default_log_level = logging.WARNING if getattr(frappe, "_dev_server", False) else logging.ERROR
stream_logging = os.environ.get("FRAPPE_STREAM_LOGGING")

# frappe.loggers / frappe.log_level in v15; kept here when frappe does not define them
_loggers = {}


def _logger_cache():
	loggers = getattr(frappe, "loggers", None)
	return loggers if isinstance(loggers, dict) else _loggers


def _sites_path():
	return getattr(getattr(frappe, "local", None), "sites_path", None) or "."


def get_logger(
	module=None,
	with_more_info=False,
	allow_site=True,
	filter=None,
	max_size=100_000,
	file_count=20,
	stream_only=stream_logging,
) -> "logging.Logger":
	"""Application logger for `module`: logs to <sites>/logs/<module>.log (and the site's logs folder)."""
	from frappe.utils import get_sites

	if allow_site is True:
		site = getattr(getattr(frappe, "local", None), "site", None)
	elif allow_site in get_sites(_sites_path()):
		site = allow_site
	else:
		site = False

	logger_name = "{}-{}".format(module, site or "all")

	cache = _logger_cache()
	try:
		return cache[logger_name]
	except KeyError:
		pass

	if not module:
		module = "frappe"
		with_more_info = True

	logfile = module + ".log"
	# v15 uses "../logs" relative to the sites folder (a bench's cwd); the testbed anchors it there
	sites_path = _sites_path()
	log_filename = os.path.join(sites_path, "..", "logs", logfile)

	logger = logging.getLogger(logger_name)
	logger.setLevel(getattr(frappe, "log_level", None) or default_log_level)
	logger.propagate = False

	formatter = logging.Formatter(f"%(asctime)s %(levelname)s {module} %(message)s")
	if stream_only:
		handler = logging.StreamHandler()
	else:
		os.makedirs(os.path.dirname(log_filename), exist_ok=True)
		handler = RotatingFileHandler(log_filename, maxBytes=max_size, backupCount=file_count)
	handler.setFormatter(formatter)
	logger.addHandler(handler)

	if site and not stream_only:
		sitelog_filename = os.path.join(sites_path, site, "logs", logfile)
		os.makedirs(os.path.dirname(sitelog_filename), exist_ok=True)
		site_handler = RotatingFileHandler(sitelog_filename, maxBytes=max_size, backupCount=file_count)
		site_handler.setFormatter(formatter)
		logger.addHandler(site_handler)

	if with_more_info:
		handler.addFilter(SiteContextFilter())

	if filter:
		logger.addFilter(filter)

	cache[logger_name] = logger
	return logger


class SiteContextFilter(logging.Filter):
	"""Inject request information (if available) into the log."""

	def filter(self, record) -> bool:
		if "Form Dict" not in str(record.msg):
			site = getattr(frappe.local, "site", None)
			form_dict = sanitized_dict(getattr(frappe.local, "form_dict", None))
			record.msg = str(record.msg) + f"\nSite: {site}\nForm Dict: {form_dict}"
			return True


def set_log_level(level) -> None:
	"""Use this method to set log level to something other than the default"""
	frappe.log_level = getattr(logging, (level or "").upper(), None) or default_log_level
	frappe.loggers = {}
	_loggers.clear()


def sanitized_dict(form_dict):
	if not isinstance(form_dict, dict):
		return form_dict

	sanitized = deepcopy(form_dict)
	blocklist = ["password", "passwd", "secret", "token", "key", "pwd"]
	for k in sanitized:
		for secret_kw in blocklist:
			if secret_kw in k:
				sanitized[k] = "********"
	return sanitized
