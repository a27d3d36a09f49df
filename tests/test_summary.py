"""Workflow 2: the weekday summary, its period, its recipients, its schedule and a site without ERPNext."""

import datetime

import frappe
import pytest
from conftest import addresses_of_test_users, drain_queues, make_user, queued_emails
from mail_content import cell_text, html_part
from sales_records import make_customer, make_sales_invoice, make_sales_order

from myapp.summary import summary_period, weekday_summary_email

# ERPNext DocTypes throughout: skipped on a bench site without ERPNext (see conftest.erpnext)
pytestmark = pytest.mark.usefixtures("erpnext")

METHOD = "myapp.tasks.weekday_summary_email"
FRIDAY = datetime.date(2024, 6, 7)  # a Friday
MONDAY = datetime.date(2024, 6, 10)
DESK_ROLES = ["Sales User"]  # a user without a desk role is a Website User, as in Frappe


def at(day, hour, minute=0, second=0):
	return datetime.datetime.combine(day, datetime.time(hour, minute, second))


def summary_job_type():
	return frappe.get_doc("Scheduled Job Type", {"method": METHOD})


# --- the period ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
	"today, expected",
	[
		(datetime.date(2024, 6, 11), ("2024-06-10", "2024-06-10")),  # Tuesday: Monday
		(FRIDAY, ("2024-06-06", "2024-06-06")),  # Friday: Thursday
		(MONDAY, ("2024-06-07", "2024-06-09")),  # Monday: Friday, Saturday, Sunday
		(datetime.date(2024, 6, 8), ("2024-06-07", "2024-06-07")),  # by hand on Saturday: Friday
		(datetime.date(2024, 6, 9), ("2024-06-07", "2024-06-08")),  # by hand on Sunday
		(datetime.date(2024, 1, 1), ("2023-12-29", "2023-12-31")),  # a Monday across the year's end
	],
)
def test_summary_period(today, expected):
	start, end = summary_period(today)
	assert (str(start), str(end)) == expected


# --- the schedule: cron "0 9 * * 1-5" -----------------------------------------------------------


def test_registered_with_the_seed_cron():
	job_type = summary_job_type()
	assert job_type.frequency == "Cron"
	assert job_type.cron_format == "0 9 * * 1-5"


def test_due_at_nine_not_a_second_earlier():
	job_type = summary_job_type()
	job_type.last_execution = at(datetime.date(2024, 6, 6), 9)  # Thursday's run
	assert not job_type.is_event_due(at(FRIDAY, 8, 59, 59))
	assert job_type.is_event_due(at(FRIDAY, 9))


def test_not_due_on_the_weekend_after_fridays_run():
	job_type = summary_job_type()
	job_type.last_execution = at(FRIDAY, 9)
	assert not job_type.is_event_due(at(datetime.date(2024, 6, 8), 9))  # Saturday
	assert not job_type.is_event_due(at(datetime.date(2024, 6, 9), 23, 59))  # Sunday night
	assert not job_type.is_event_due(at(MONDAY, 8, 59))
	assert job_type.is_event_due(at(MONDAY, 9))


def test_the_scheduled_job_runs_in_a_worker_and_queues_one_summary():
	make_user("summary.reader@myapp.test", roles=DESK_ROLES)
	job_type = summary_job_type()
	job_type.db_set("last_execution", at(datetime.date.today() - datetime.timedelta(days=7), 9))
	assert job_type.enqueue()  # due (a week since the last run), queued as the scheduler does
	drain_queues()

	log = frappe.get_all("Scheduled Job Log", filters={"scheduled_job_type": job_type.name}, pluck="status")
	assert log == ["Complete"]
	mails = [m for m in queued_emails() if "summary.reader@myapp.test" in m.recipients]
	assert len(mails) == 1


# --- the content --------------------------------------------------------------------------------


def test_counts_and_revenue_cover_exactly_the_period():
	today = datetime.date.today()
	start, end = summary_period(today)
	first, last = at(start, 0, 0, 0), at(end, 23, 59, 59)
	customer = make_customer("Summary Customer")
	make_user("summary.reader@myapp.test", roles=DESK_ROLES)

	# created inside the period, submitted: counted
	make_sales_order(customer, creation=first)
	make_sales_order(customer, creation=last)
	inside = [
		make_sales_invoice_for(customer, start, 1000, creation=first),
		make_sales_invoice_for(customer, end, 234.5, creation=last),
	]
	# outside the period, a draft, a cancelled one: not counted
	make_sales_order(customer, creation=first - datetime.timedelta(seconds=1))
	make_sales_order(customer, creation=last + datetime.timedelta(seconds=1))
	make_sales_order(customer, creation=first, submit=False)
	make_sales_invoice_for(
		customer, start - datetime.timedelta(days=1), 50, creation=first - datetime.timedelta(days=1)
	)
	make_sales_invoice_for(customer, today, 70, creation=last + datetime.timedelta(seconds=1))
	make_sales_invoice_for(customer, end, 9, creation=last, submit=False)
	cancelled = frappe.get_doc("Sales Invoice", make_sales_invoice_for(customer, end, 11, creation=last))
	cancelled.cancel()
	frappe.db.commit()

	summary = weekday_summary_email()

	assert summary["new_orders"] == 2
	assert summary["new_invoices"] == 2 and len(inside) == 2
	assert [(row.currency, float(row.amount)) for row in summary["revenue"]] == [("USD", 1234.5)]
	assert summary["revenue_formatted"] == ["$ 1,234.50"]
	[mail] = [m for m in queued_emails() if "summary.reader@myapp.test" in m.recipients]
	html = html_part(mail.message)
	assert "$ 1,234.50" in html
	assert (cell_text(html, "new-orders"), cell_text(html, "new-invoices")) == ("2", "2")


def make_sales_invoice_for(customer, posting_date, amount, creation=None, submit=True):
	from sales_records import make_item

	return make_sales_invoice(
		customer, posting_date, [(make_item("SUMMARY-ITEM"), 1, amount)], creation=creation, submit=submit
	)


def test_revenue_of_each_currency_is_formatted_in_its_own_currency():
	start, end = summary_period(datetime.date.today())
	customer = make_customer("Two Currencies")
	make_sales_invoice_for(customer, end, 100)
	from sales_records import make_item

	make_sales_invoice(customer, end, [(make_item("SUMMARY-ITEM"), 2, 25)], currency="EUR")
	frappe.db.commit()

	summary = weekday_summary_email()

	assert summary["revenue_formatted"] == ["$ 100.00", "€ 50.00"]


def test_no_revenue_shows_zero_in_the_company_currency():
	make_customer("Nothing Sold")  # the company (USD) exists
	summary = weekday_summary_email()
	assert summary["new_orders"] == 0 and summary["new_invoices"] == 0
	assert summary["revenue_formatted"] == ["$ 0.00"]


# --- the recipients -----------------------------------------------------------------------------


def test_sent_to_enabled_system_users_with_an_email():
	make_user("reader.one@myapp.test", roles=DESK_ROLES)
	make_user("reader.two@myapp.test", roles=DESK_ROLES)
	make_user("disabled.reader@myapp.test", roles=DESK_ROLES, enabled=0)
	make_user("website.reader@myapp.test")  # no desk role: a Website User
	frappe.db.commit()

	weekday_summary_email()

	[mail] = queued_emails()
	recipients = set(mail.recipients)
	assert {"reader.one@myapp.test", "reader.two@myapp.test"} <= recipients
	assert "disabled.reader@myapp.test" not in recipients
	assert "website.reader@myapp.test" not in recipients
	assert "admin@example.com" not in recipients  # Administrator is not a person to report to


def test_recipients_limited_to_a_role_from_report_settings():
	make_user("sales.manager@myapp.test", roles=["Sales Manager"])
	make_user("clerk@myapp.test", roles=["Sales User"])
	frappe.db.set_single_value("Report Settings", "summary_recipient_role", "Sales Manager")
	frappe.db.commit()

	weekday_summary_email()

	[mail] = queued_emails()
	assert addresses_of_test_users(mail.recipients) == ["sales.manager@myapp.test"]


def test_disabled_in_report_settings_sends_nothing():
	make_user("reader.one@myapp.test", roles=DESK_ROLES)
	frappe.db.set_single_value("Report Settings", "send_weekday_summary", 0)
	frappe.db.commit()

	assert weekday_summary_email() is None
	assert queued_emails() == []


# --- a site without ERPNext ---------------------------------------------------------------------


def test_site_without_erpnext_logs_and_sends_nothing(site_without_erpnext):
	assert not frappe.db.exists("DocType", "Sales Invoice")
	make_user("reader.one@myapp.test", roles=DESK_ROLES)
	frappe.db.commit()

	assert weekday_summary_email() is None

	assert queued_emails() == []
	assert frappe.db.count("Error Log") == 0
