"""Following a queued job from a terminal: its progress (what it publishes with
`frappe.publish_progress`, read from the realtime channel socket.io reads) and its end."""

import json
import time
from dataclasses import dataclass

import frappe

REALTIME_CHANNEL = "events"  # frappe.realtime.emit_via_redis publishes every event here
END_STATUSES = ("finished", "failed", "stopped", "canceled")


@dataclass
class Progress:
	percent: float
	title: str
	description: str


@dataclass
class Outcome:
	status: str  # an RQ status, or "waiting" when the watch gave up first
	result: object = None
	error: str = ""


class JobWatch:
	"""Subscribe first, then enqueue, then `follow`: no progress event is missed."""

	def __init__(self):
		from frappe.utils.background_jobs import get_redis_connection_without_auth

		self.site = frappe.local.site
		self.pubsub = get_redis_connection_without_auth().pubsub(ignore_subscribe_messages=True)
		self.pubsub.subscribe(REALTIME_CHANNEL)

	def follow(self, job, on_progress=None, on_idle=None, timeout=None, idle_after=10) -> Outcome:
		"""Wait for `job` to end, calling `on_progress(Progress)` for each progress event of this
		site and `on_idle(job)` once if it is still queued after `idle_after` seconds."""
		started = time.monotonic()
		idle_reported = False
		try:
			while True:
				message = self.pubsub.get_message(timeout=0.5)
				if message and on_progress and (progress := self._progress(message)):
					on_progress(progress)
				status = job.get_status(refresh=True)
				if status in END_STATUSES:
					return self._outcome(job, status)
				waited = time.monotonic() - started
				if on_idle and not idle_reported and status == "queued" and waited > idle_after:
					idle_reported = True
					on_idle(job)
				if timeout and waited > timeout:
					return Outcome("waiting")
		finally:
			self.pubsub.close()

	def _progress(self, message) -> Progress | None:
		try:
			data = json.loads(message["data"])
		except ValueError:
			return None
		if data.get("namespace") != self.site or data.get("event") != "progress":
			return None
		body = data.get("message") or {}
		return Progress(
			percent=float(body.get("percent") or 0),
			title=body.get("title") or "",
			description=body.get("description") or "",
		)

	@staticmethod
	def _outcome(job, status: str) -> Outcome:
		if status == "finished":
			return Outcome(status, result=job.return_value())
		result = job.latest_result()
		return Outcome(status, error=(result.exc_string if result and result.exc_string else "") or "")
