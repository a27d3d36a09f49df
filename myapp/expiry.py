"""Example 5: expiry reminders (daily), driven by Expiry Rule documents.

For each enabled rule, each document whose expiry date lies between today and the rule's
largest "days before" gets at most one reminder per threshold: a Notification Log for the user
and an email with a link, recorded in Expiry Notification Log. A unique index over (reference
DocType, reference name, days before) makes the record the claim: the row is inserted first,
and a run that loses the race to another run gets a duplicate-key error and sends nothing.

Catch-up: a document gets the reminder of the nearest threshold it has reached
(the smallest threshold >= days left), so a reminder missed while the scheduler was down goes
out on the next run, and older thresholds missed as well are not sent in a flood.
"""

import datetime

import frappe
from frappe import _
from frappe.utils import (
	add_days,
	date_diff,
	escape_html,
	format_date,
	get_url_to_form,
	getdate,
	now_datetime,
	nowdate,
)

from myapp.myapp.doctype.expiry_rule.expiry_rule import parse_days_before
from myapp.utils import doctype_exists
from myapp.utils.savepoint import isolated

RULE = "Expiry Rule"
LOG = "Expiry Notification Log"
TEMPLATE = "expiry_reminder"


def check_expiring_documents(today: str | datetime.date | None = None) -> dict:
	"""The scheduled entry point: every enabled Expiry Rule, as of today (or the date given,
	e.g. `bench execute myapp.expiry.check_expiring_documents --kwargs "{'today': '2025-01-31'}"`)."""
	today = getdate(today or nowdate())
	stats = {"sent": 0, "already_sent": 0, "user_disabled": 0, "failed": 0}
	for rule in frappe.get_all(RULE, filters={"enabled": 1}, fields=["*"], order_by="name asc"):
		if not doctype_exists(rule.document_type):
			frappe.logger("myapp.expiry").info(
				f"Expiry rule {rule.name}: {rule.document_type} is not installed"
			)
			continue
		try:
			for key, count in check_rule(rule, today).items():
				stats[key] += count
		except Exception:
			frappe.db.rollback()
			frappe.log_error(
				title=f"Expiry reminders: rule {rule.name} failed",
				reference_doctype=RULE,
				reference_name=rule.name,
			)
			stats["failed"] += 1
	frappe.logger("myapp.expiry").info(f"Expiry reminders: {stats}")
	return stats


def due_threshold(days_left: int, thresholds: list[int]) -> int | None:
	"""The nearest threshold reached with `days_left` days to go; None before the first one
	and once the document has expired (days_left < 0)."""
	if days_left < 0:
		return None
	reached = [days for days in thresholds if days >= days_left]
	return min(reached) if reached else None


def check_rule(rule, today: datetime.date) -> dict:
	thresholds = parse_days_before(rule.days_before)
	meta = frappe.get_meta(rule.document_type)
	user_field = rule.user_field if rule.user_field and meta.has_field(rule.user_field) else "owner"
	title_field = meta.get_title_field()
	fields = list(dict.fromkeys(["name", "owner", rule.date_field, user_field, title_field]))
	documents = frappe.get_all(
		rule.document_type,
		filters=[
			[rule.date_field, ">=", str(today)],
			[rule.date_field, "<", str(add_days(today, max(thresholds) + 1))],
			["docstatus", "!=", 2],
		],
		fields=fields,
		order_by=f"`{rule.date_field}` asc",
	)

	due = []
	for doc in documents:
		days_left = date_diff(getdate(doc.get(rule.date_field)), today)
		threshold = due_threshold(days_left, thresholds)
		if threshold is not None:
			due.append((doc, threshold, days_left))
	already = sent_reminders(rule.document_type, [doc.name for doc, _threshold, _days in due])

	stats = {"sent": 0, "already_sent": 0, "user_disabled": 0, "failed": 0}
	users = {}
	for doc, threshold, days_left in due:
		if (doc.name, threshold) in already:
			continue
		user = doc.get(user_field) or doc.owner
		if user not in users:
			users[user] = active_user(user)
		if not users[user]:
			stats["user_disabled"] += 1
			continue
		reminder = frappe._dict(
			rule=rule,
			doc=doc,
			title=doc.get(title_field) or doc.name,
			expiry_date=getdate(doc.get(rule.date_field)),
			threshold=threshold,
			days_left=days_left,
			user=users[user],
		)
		stats[send_reminder(reminder)] += 1
	return stats


def sent_reminders(doctype: str, names: list[str]) -> set[tuple[str, int]]:
	if not names:
		return set()
	rows = frappe.get_all(
		LOG,
		filters={"reference_doctype": doctype, "reference_name": ("in", names)},
		fields=["reference_name", "days_before"],
	)
	return {(row.reference_name, row.days_before) for row in rows}


def active_user(user: str):
	"""The user's name, email and language when it exists and is enabled, else None."""
	if not user or user == "Guest":
		return None
	row = frappe.db.get_value("User", user, ["name", "email", "enabled", "language"], as_dict=True)
	return row if row and row.enabled else None


def send_reminder(reminder) -> str:
	"""Claim (document, threshold) by inserting its log row, then notify, and commit:
	'sent', 'already_sent' when another run made the claim, or 'failed' (logged)."""
	savepoint = "expiry_reminder"
	frappe.db.savepoint(savepoint)
	try:
		record_reminder(reminder)
	except (frappe.UniqueValidationError, frappe.DuplicateEntryError):
		# another run's row is in (this insert waited for that run's commit): nothing to send
		frappe.db.rollback(save_point=savepoint)
		return "already_sent"
	with isolated(
		savepoint,
		title=f"Expiry reminder for {reminder.rule.document_type} {reminder.doc.name} failed",
		reference_doctype=reminder.rule.document_type,
		reference_name=reminder.doc.name,
		release=False,  # the claim above and the notification are undone together
	) as unit:
		notify(reminder)
	if unit.failed:
		return "failed"
	frappe.db.commit()
	return "sent"


def record_reminder(reminder):
	frappe.get_doc(
		{
			"doctype": LOG,
			"reference_doctype": reminder.rule.document_type,
			"reference_name": reminder.doc.name,
			"days_before": reminder.threshold,
			"expiry_date": reminder.expiry_date,
			"user": reminder.user.name,
			"sent_on": now_datetime(),
			"expiry_rule": reminder.rule.name,
		}
	).insert(ignore_permissions=True)


def notify(reminder):
	doctype, name = reminder.rule.document_type, reminder.doc.name
	previous_lang = frappe.local.lang
	frappe.local.lang = reminder.user.language or previous_lang
	try:
		args = {
			"doctype": _(doctype),
			"name": name,
			"title": reminder.title,
			"expiry_date": format_date(reminder.expiry_date),
			"days_left": reminder.days_left,
			"link": get_url_to_form(doctype, name),
		}
		subject = expiry_subject(args)
		email_html = frappe.render_template(f"templates/emails/{TEMPLATE}.html", args)
	finally:
		frappe.local.lang = previous_lang

	frappe.get_doc(
		{
			"doctype": "Notification Log",
			"for_user": reminder.user.name,
			"type": "Alert",
			"document_type": doctype,
			"document_name": name,
			# shown as HTML in the desk's notification list
			"subject": escape_html(subject),
			"email_content": email_html,
		}
	).insert(ignore_permissions=True)

	if reminder.user.email:
		frappe.sendmail(
			recipients=[reminder.user.email],
			subject=subject,
			message=email_html,
			reference_doctype=doctype,
			reference_name=name,
		)


def expiry_subject(args: dict) -> str:
	if args["days_left"] == 0:
		return _("{0} {1} expires today").format(args["doctype"], args["title"])
	if args["days_left"] == 1:
		return _("{0} {1} expires tomorrow").format(args["doctype"], args["title"])
	return _("{0} {1} expires in {2} days").format(args["doctype"], args["title"], args["days_left"])
