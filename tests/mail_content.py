"""The parts of a queued email, as a reader sees them (Email Queue stores the MIME message)."""

import email
from email import policy


def html_part(message: str) -> str:
	"""The decoded text/html part of an Email Queue row's `message`."""
	mime = email.message_from_string(message, policy=policy.default)
	part = mime.get_body(preferencelist=("html",))
	assert part is not None, "no text/html part"
	return part.get_content()


def subject(message: str) -> str:
	return str(email.message_from_string(message, policy=policy.default)["Subject"])
