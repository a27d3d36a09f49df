"""Sync Settings and the HTTP client of the external orders API."""

import frappe
import requests
from frappe.utils import cint

from myapp.sync.constants import ORDER, SETTINGS, logger_name
from myapp.utils.retry import CallFailure, redact


def get_settings(purpose: str):
	"""Sync Settings when the sync can run, else None (after one log line saying why)."""
	if not frappe.db.table_exists(ORDER) or not frappe.get_meta(ORDER).has_field("custom_sync_status"):
		frappe.logger(logger_name).info(
			f"External sync {purpose}: Sales Order (ERPNext) not installed, skipped"
		)
		return None
	settings = frappe.get_single(SETTINGS)
	if not settings.enabled or not settings.base_url:
		frappe.logger(logger_name).info(f"External sync {purpose}: disabled in Sync Settings, skipped")
		return None
	return settings


class ExternalAPI:
	"""The external system's orders endpoint. The key lives only in the session's headers."""

	def __init__(self, settings):
		self.base_url = settings.base_url.rstrip("/")
		self.timeout = max(cint(settings.timeout), 1)
		self.session = requests.Session()
		self.session.headers.update({"Accept": "application/json", "User-Agent": "myapp-sync/1"})
		self._secret = settings.get_password("api_key", raise_exception=False) or ""
		if self._secret:
			self.session.headers["Authorization"] = f"Bearer {self._secret}"

	def request(self, method: str, path: str, **kwargs) -> requests.Response:
		return self.session.request(
			method, f"{self.base_url}{path}", timeout=self.timeout, allow_redirects=False, **kwargs
		)

	def redact(self, text) -> str:
		return redact(str(text or ""), self._secret, f"Bearer {self._secret}" if self._secret else None)

	def redacted(self, failure: CallFailure) -> CallFailure:
		"""The failure with the key removed from its message (an API may echo request headers)."""
		failure.message = self.redact(failure.message)
		return failure

	def close(self):
		self.session.close()

	def __enter__(self):
		return self

	def __exit__(self, *exc):
		self.close()
