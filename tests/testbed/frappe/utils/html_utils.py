"""HTML sanitising before save (v15: `frappe.utils.html_utils.sanitize_html`).

As in v15, a value that holds markup is cleaned with bleach: tags and attributes outside safe
lists are dropped (an `onerror` handler, a `<script>`), CSS is limited to known properties, links
to http(s), mailto and cid. v15 keeps its own long lists of HTML, SVG and MathML elements; here
bleach_allowlist's lists (which v15's start from) plus the page-level tags v15 adds. JSON and text
without any tag are left alone.
"""

import json

PAGE_TAGS = ("html", "head", "meta", "link", "body", "style", "o:p", "div", "span", "img", "svg")
ATTRIBUTES = frozenset(
	(
		"align", "alt", "border", "class", "colspan", "color", "dir", "height", "href", "id", "lang",
		"name", "rel", "rowspan", "src", "style", "target", "title", "type", "valign", "width",
	)
)  # fmt: skip
PROTOCOLS = frozenset(("cid", "http", "https", "mailto"))


def is_json(text) -> bool:
	try:
		json.loads(text)
	except ValueError:
		return False
	return True


def _allowed_attribute(tag, name, value) -> bool:
	return name.startswith("data-") or name in ATTRIBUTES


def sanitize_html(html, linkify=False, always_sanitize=False):
	import bleach
	from bleach.css_sanitizer import CSSSanitizer
	from bleach_allowlist import bleach_allowlist
	from bs4 import BeautifulSoup

	if not isinstance(html, str):
		return html
	if not always_sanitize and (is_json(html) or not BeautifulSoup(html, "html.parser").find()):
		return html
	tags = sorted({*bleach_allowlist.generally_xss_safe, *bleach_allowlist.markdown_tags, *PAGE_TAGS})
	cleaned = bleach.clean(
		html,
		tags=tags,
		attributes={"*": _allowed_attribute},
		css_sanitizer=CSSSanitizer(allowed_css_properties=bleach_allowlist.all_styles),
		strip_comments=False,
		protocols=PROTOCOLS,
	)
	return bleach.linkify(cleaned) if linkify else cleaned
