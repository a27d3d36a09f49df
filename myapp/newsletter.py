"""Example 4: the weekly digest email (cron "0 8 * * 1").

Compiled once per run for the previous Monday-Sunday week, then rendered and queued per
subscribed user (User.custom_weekly_digest), in the user's language. One user's failure is
logged and the others still get theirs. Each user's row records the week last sent
(User.custom_weekly_digest_sent_for), read under a row lock, so a re-run in the same week, even
one running at the same time, sends nobody a second copy.
"""

import datetime

import frappe
from frappe import _
from frappe.utils import add_days, cint, format_date, getdate, nowdate, validate_email_address

from myapp.summary import (
	created_between,
	format_revenue,
	revenue_by_currency,
	submitted_and_created_between,
)
from myapp.utils import doctype_exists
from myapp.utils.savepoint import isolated

REPORT_SETTINGS = "Report Settings"
SUBSCRIBED_FIELD = "custom_weekly_digest"
SENT_FOR_FIELD = "custom_weekly_digest_sent_for"
TEMPLATE = "templates/emails/weekly_digest.html"


def send_weekly_digest() -> dict | None:
	logger = frappe.logger("myapp.newsletter")
	if not frappe.db.get_single_value(REPORT_SETTINGS, "send_weekly_digest"):
		logger.info("Weekly digest: disabled in Report Settings")
		return None
	if not (doctype_exists("Sales Invoice") and doctype_exists("Sales Order")):
		logger.info("Weekly digest: skipped, Sales Order / Sales Invoice not installed (ERPNext)")
		return None

	start, end = digest_period(getdate(nowdate()))
	digest = compile_weekly_digest(
		start, end, cint(frappe.db.get_single_value(REPORT_SETTINGS, "digest_top_items")) or 5
	)
	stats = {"sent": 0, "already_sent": 0, "unsubscribed": 0, "failed": 0}
	for subscriber in subscribers():
		outcome = send_digest_safely(subscriber, digest)
		stats[outcome] += 1
	logger.info(
		f"Weekly digest {start}..{end}: sent {stats['sent']}, already sent {stats['already_sent']}, "
		f"unsubscribed {stats['unsubscribed']}, failed {stats['failed']}"
	)
	return stats


def digest_period(today: datetime.date) -> tuple[datetime.date, datetime.date]:
	"""The Monday and Sunday of the week before `today`'s week: the same for every run in a week."""
	today = getdate(today)
	start = add_days(today, -(today.weekday() + 7))
	return start, add_days(start, 6)


def compile_weekly_digest(start: datetime.date, end: datetime.date, top_items: int = 5) -> dict:
	revenue = revenue_by_currency(start, end)
	return frappe._dict(
		period_start=start,
		period_end=end,
		period_label=f"{format_date(start)} - {format_date(end)}",
		new_orders=frappe.db.count("Sales Order", submitted_and_created_between(start, end)),
		revenue=revenue,
		revenue_formatted=format_revenue(revenue),
		top_items=top_selling_items(start, end, top_items),
		new_customers=frappe.db.count("Customer", created_between(start, end))
		if doctype_exists("Customer")
		else None,
		open_issues=frappe.db.count("Issue", {"status": "Open"}) if doctype_exists("Issue") else None,
	)


def top_selling_items(start: datetime.date, end: datetime.date, limit: int) -> list[dict]:
	"""Items of submitted invoices posted start..end with the largest amounts (per currency)."""
	from frappe.utils import fmt_money

	items = frappe.db.sql(
		"""select item.item_code, max(item.item_name) as item_name, invoice.currency,
			sum(item.qty) as total_qty, sum(item.amount) as total_amount
		from `tabSales Invoice Item` item
		join `tabSales Invoice` invoice on invoice.name = item.parent
		where invoice.docstatus = 1 and invoice.posting_date between %s and %s
			and item.parenttype = 'Sales Invoice'
		group by item.item_code, invoice.currency
		order by total_amount desc, item.item_code asc
		limit %s""",
		(start, end, limit),
		as_dict=True,
	)
	for item in items:
		item.amount_formatted = fmt_money(item.total_amount, currency=item.currency)
	return items


def subscribers() -> list[dict]:
	"""Enabled System Users with an email who ticked the digest box (never Website Users:
	the digest shows the business' figures)."""
	return frappe.get_all(
		"User",
		filters={
			"enabled": 1,
			SUBSCRIBED_FIELD: 1,
			"user_type": "System User",
			"email": ("is", "set"),
			"name": ("not in", ("Guest",)),
		},
		fields=["name", "email", "full_name", "first_name", "language", SENT_FOR_FIELD],
		order_by="name asc",
	)


def send_digest_safely(subscriber: dict, digest: dict) -> str:
	"""'sent', 'already_sent', 'unsubscribed' or 'failed'; commits (and so unlocks the user's row) per user."""
	if subscriber.get(SENT_FOR_FIELD) and getdate(subscriber.get(SENT_FOR_FIELD)) == digest.period_start:
		return "already_sent"
	with isolated(
		"weekly_digest_user",
		title=f"Weekly digest: could not send to {subscriber.name}",
		reference_doctype="User",
		reference_name=subscriber.name,
	) as unit:
		outcome = send_digest_to_user(subscriber, digest)
	frappe.db.commit()
	return "failed" if unit.failed else outcome


def send_digest_to_user(subscriber: dict, digest: dict) -> str:
	# The row lock makes a concurrent run wait here, then see the week as sent.
	sent_for = frappe.db.get_value("User", subscriber.name, SENT_FOR_FIELD, for_update=True)
	if sent_for and getdate(sent_for) == digest.period_start:
		return "already_sent"

	if not validate_email_address(subscriber.email):
		frappe.throw(
			_("{0} is not a valid Email Address").format(subscriber.email), frappe.InvalidEmailAddressError
		)
	subject, message = render_digest(subscriber, digest)
	queued = frappe.sendmail(
		recipients=[subscriber.email],
		subject=subject,
		message=message,
		reference_doctype="User",
		reference_name=subscriber.name,
	)
	if queued is None:
		# Frappe logs and drops an email it cannot build instead of raising
		frappe.throw(_("The digest email to {0} could not be queued").format(subscriber.email))
	# An empty list: the address unsubscribed from all email (Email Unsubscribe). Not a failure:
	# the week counts as handled, so the next run does not try (and log) again.
	frappe.db.set_value("User", subscriber.name, SENT_FOR_FIELD, digest.period_start, update_modified=False)
	return "sent" if queued else "unsubscribed"


def render_digest(subscriber: dict, digest: dict) -> tuple[str, str]:
	"""(subject, html) in the subscriber's language."""
	previous_lang = frappe.local.lang
	frappe.local.lang = subscriber.language or previous_lang
	try:
		subject = _("Weekly Digest: {0}").format(digest.period_label)
		message = frappe.render_template(
			TEMPLATE, {"user": subscriber, "data": digest, "lang": frappe.local.lang}
		)
	finally:
		frappe.local.lang = previous_lang
	return subject, message
