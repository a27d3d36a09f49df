"""Retry policy for calls to external HTTP APIs: which failures retry, and when.

Retry: timeouts, connection errors, 5xx and 429 (its Retry-After is honoured). Do not retry:
any other 4xx, which the API will answer the same way next time. Delays grow exponentially
from a base, are capped, and carry jitter so that records failing together do not all retry at
the same second.
"""

import datetime
import email.utils
import random
from dataclasses import dataclass

import requests

# A Retry-After longer than this is treated as this: a bad header must not park a record for months.
MAX_RETRY_AFTER_SECONDS = 24 * 60 * 60
# How much of an error response body is kept in messages.
BODY_EXCERPT_CHARS = 300


@dataclass
class CallFailure:
	"""Why a call failed: `retryable` decides between another attempt and a permanent error."""

	message: str
	retryable: bool
	status_code: int | None = None
	retry_after: float | None = None

	@property
	def rate_limited(self) -> bool:
		return self.status_code == 429


def is_retryable_status(status_code: int) -> bool:
	return status_code == 429 or status_code >= 500


def failure_from_response(response: requests.Response) -> CallFailure | None:
	"""None for a 2xx/3xx response, else the failure it stands for."""
	if response.status_code < 400:
		return None
	body = (response.text or "").strip().replace("\n", " ")[:BODY_EXCERPT_CHARS]
	message = f"HTTP {response.status_code} {response.reason or ''}".strip()
	if body:
		message = f"{message}: {body}"
	return CallFailure(
		message=message,
		retryable=is_retryable_status(response.status_code),
		status_code=response.status_code,
		retry_after=parse_retry_after(response.headers.get("Retry-After"))
		if is_retryable_status(response.status_code)
		else None,
	)


def failure_from_exception(exc: Exception) -> CallFailure:
	"""Timeouts and connection errors retry; a request that could not even be built does not."""
	if isinstance(exc, requests.Timeout):
		return CallFailure(message=f"Timeout: {exc}", retryable=True)
	if isinstance(exc, requests.ConnectionError):
		return CallFailure(message=f"Connection error: {exc}", retryable=True)
	if isinstance(exc, requests.HTTPError) and exc.response is not None:
		return failure_from_response(exc.response)
	if isinstance(exc, ValueError | requests.exceptions.InvalidURL | requests.exceptions.MissingSchema):
		return CallFailure(message=f"{type(exc).__name__}: {exc}", retryable=False)
	return CallFailure(message=f"{type(exc).__name__}: {exc}", retryable=True)


def parse_retry_after(value: str | None, now: datetime.datetime | None = None) -> float | None:
	"""Seconds to wait from a Retry-After header: delta-seconds or an HTTP date (RFC 9110)."""
	if not value:
		return None
	value = value.strip()
	if value.isdigit():
		seconds = float(value)
	else:
		try:
			when = email.utils.parsedate_to_datetime(value)
		except (TypeError, ValueError, IndexError):
			return None
		if when is None:
			return None
		if when.tzinfo is None:
			when = when.replace(tzinfo=datetime.timezone.utc)
		now = now or datetime.datetime.now(datetime.timezone.utc)
		seconds = (when - now).total_seconds()
	return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


def backoff_seconds(
	attempt: int,
	base: float,
	cap: float,
	retry_after: float | None = None,
	rng: random.Random | None = None,
	factor: float = 2,
	jitter: bool = True,
) -> float:
	"""Delay before attempt `attempt + 1`, after `attempt` (>= 1) failed attempts.

	Exponential (`base * factor ** (attempt - 1)`), capped at `cap`, with "equal jitter": a uniform
	draw from the upper half, so the delay never collapses to zero (`jitter=False`: the ceiling
	itself). A server's Retry-After is a floor: the record never comes back before the server said
	it may.
	"""
	rng = rng or random
	ceiling = min(float(cap), float(base) * (float(factor) ** max(attempt - 1, 0)))
	delay = ceiling / 2 + rng.uniform(0, ceiling / 2) if jitter else ceiling
	if retry_after is not None:
		delay = max(delay, retry_after)
	return delay


def redact(text: str | None, *secrets: str | None) -> str:
	"""`text` with every secret replaced, for anything that is stored or logged."""
	text = text or ""
	for secret in secrets:
		if secret:
			text = text.replace(secret, "********")
	return text
