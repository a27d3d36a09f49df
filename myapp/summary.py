"""Workflow 2: the weekday summary email (cron "0 9 * * 1-5").

"Yesterday" in the seed is the day before the run. Taken literally, Monday's email would cover
Sunday only and Friday's and Saturday's orders would never be reported; so each run covers the
days since the previous weekday run: Tuesday to Friday cover the day before, Monday covers
Friday, Saturday and Sunday (see `summary_period`).
"""

import datetime

import frappe
from frappe import _
from frappe.utils import add_days, flt, fmt_money, format_date, getdate, nowdate

from myapp.install import doctype_exists

REPORT_SETTINGS = "Report Settings"
ERPNEXT_DOCTYPES = ("Sales Order", "Sales Invoice")


def weekday_summary_email() -> dict | None:
	"""Email yesterday's (Monday: the weekend's and Friday's) orders, invoices and revenue."""
	logger = frappe.logger("myapp.summary")
	if not frappe.db.get_single_value(REPORT_SETTINGS, "send_weekday_summary"):
		logger.info("Weekday summary: disabled in Report Settings")
		return None
	missing = [doctype for doctype in ERPNEXT_DOCTYPES if not doctype_exists(doctype)]
	if missing:
		logger.info(f"Weekday summary: skipped, {', '.join(missing)} not installed (ERPNext)")
		return None

	start, end = summary_period(getdate(nowdate()))
	summary = compile_summary(start, end)
	recipients = summary_recipients()
	if not recipients:
		logger.info("Weekday summary: no recipients")
		return summary

	frappe.sendmail(
		recipients=recipients,
		subject=_("Daily Summary: {0}").format(summary["period_label"]),
		template="weekday_summary",
		args={"summary": summary},
	)
	logger.info(f"Weekday summary for {start}..{end} queued for {len(recipients)} recipients")
	return summary


def summary_period(today: datetime.date) -> tuple[datetime.date, datetime.date]:
	"""(first day, last day) that the summary sent on `today` covers, both inclusive.

	From the previous weekday (the previous run) up to yesterday: Tuesday-Friday -> yesterday,
	Monday -> Friday..Sunday; a run by hand on Saturday covers Friday, on Sunday Friday..Saturday.
	"""
	today = getdate(today)
	start = add_days(today, -1)
	while start.weekday() >= 5:  # Saturday, Sunday
		start = add_days(start, -1)
	return start, add_days(today, -1)


def compile_summary(start: datetime.date, end: datetime.date) -> dict:
	created = submitted_and_created_between(start, end)
	revenue = revenue_by_currency(start, end)
	return {
		"start": start,
		"end": end,
		"period_label": format_date(start) if start == end else f"{format_date(start)} - {format_date(end)}",
		"new_orders": frappe.db.count("Sales Order", created),
		"new_invoices": frappe.db.count("Sales Invoice", created),
		"revenue": revenue,
		"revenue_formatted": format_revenue(revenue),
	}


def created_between(start: datetime.date, end: datetime.date) -> list[list]:
	"""Filters: created on a day from start to end (inclusive)."""
	return [["creation", ">=", f"{start} 00:00:00"], ["creation", "<", f"{add_days(end, 1)} 00:00:00"]]


def submitted_and_created_between(start: datetime.date, end: datetime.date) -> list[list]:
	return [["docstatus", "=", 1], *created_between(start, end)]


def revenue_by_currency(start: datetime.date, end: datetime.date) -> list[dict]:
	"""Sum of grand_total of submitted invoices posted start..end, per invoice currency
	(an invoice's grand_total is in its own currency: adding USD to EUR would be meaningless)."""
	return frappe.db.sql(
		"""select currency, sum(grand_total) as amount
		from `tabSales Invoice`
		where docstatus = 1 and posting_date between %s and %s
		group by currency
		order by amount desc""",
		(start, end),
		as_dict=True,
	)


def format_revenue(revenue: list[dict]) -> list[str]:
	if not revenue:
		return [fmt_money(0, currency=default_currency())]
	return [fmt_money(flt(row.amount), currency=row.currency or default_currency()) for row in revenue]


def default_currency() -> str | None:
	"""The default company's currency, else the system currency."""
	company = frappe.db.get_default("company")
	if not company and doctype_exists("Company"):
		companies = frappe.get_all("Company", pluck="name", limit=2)
		company = companies[0] if len(companies) == 1 else None
	currency = company and frappe.db.get_value("Company", company, "default_currency")
	return (
		currency
		or frappe.db.get_default("currency")
		or frappe.db.get_single_value("System Settings", "currency")
	)


def summary_recipients() -> list[str]:
	"""Emails of the enabled System Users (with the role of Report Settings, when one is set)."""
	role = frappe.db.get_single_value(REPORT_SETTINGS, "summary_recipient_role")
	if role:
		from myapp.utils.notify import email_addresses, users_with_role

		return email_addresses(users_with_role(role))
	return frappe.get_all(
		"User",
		filters={
			"enabled": 1,
			"user_type": "System User",
			"email": ("is", "set"),
			"name": ("not in", ("Administrator", "Guest")),
		},
		pluck="email",
		order_by="name asc",
	)
