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


def cell_text(html: str, css_class: str) -> str:
	"""The text of the element with that class (v15's mail pipeline inlines styles and adds
	attributes, so the markup around a value is not the template's)."""
	import re

	found = re.search(rf'class="{css_class}"[^>]*>([^<]*)<', html)
	assert found, f"no element of class {css_class}"
	return found.group(1).strip()
