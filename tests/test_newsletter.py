"""Example 4: the weekly digest: its week, its figures, one email per subscriber, a failing
recipient, re-runs and concurrent runs of the same week, and a site without ERPNext."""

import datetime

import frappe
import pytest
from conftest import drain_queues, make_user, queued_emails
from frappe.utils.background_jobs import enqueue
from mail_content import html_part, subject
from sales_records import make_customer, make_item, make_sales_invoice, make_sales_order

from myapp.newsletter import compile_weekly_digest, digest_period, send_weekly_digest

# ERPNext DocTypes throughout: skipped on a bench site without ERPNext (see conftest.erpnext)
pytestmark = pytest.mark.usefixtures("erpnext")

METHOD = "myapp.newsletter.send_weekly_digest"
DESK_ROLES = ["Sales User"]


def subscriber(email, first_name=None, language=None, subscribed=1, enabled=1, roles=DESK_ROLES):
	user = make_user(email, roles=roles, first_name=first_name, enabled=enabled)
	frappe.db.set_value("User", user, {"custom_weekly_digest": subscribed, "language": language})
	frappe.db.commit()
	return user


def at(day, hour=0, minute=0, second=0):
	return datetime.datetime.combine(day, datetime.time(hour, minute, second))


def digest_emails():
	return [m for m in queued_emails() if subject(m.message).startswith("Weekly Digest")]


# --- schedule and period ------------------------------------------------------------------------


def test_registered_mondays_at_eight():
	job_type = frappe.get_doc("Scheduled Job Type", {"method": METHOD})
	assert (job_type.frequency, job_type.cron_format) == ("Cron", "0 8 * * 1")
	job_type.last_execution = datetime.datetime(2024, 6, 3, 8, 0)  # Monday
	assert not job_type.is_event_due(datetime.datetime(2024, 6, 10, 7, 59, 59))
	assert job_type.is_event_due(datetime.datetime(2024, 6, 10, 8, 0))


@pytest.mark.parametrize(
	"today",
	[datetime.date(2024, 6, 10), datetime.date(2024, 6, 12), datetime.date(2024, 6, 16)],  # Mon, Wed, Sun
)
def test_every_day_of_a_week_digests_the_previous_week(today):
	assert digest_period(today) == (datetime.date(2024, 6, 3), datetime.date(2024, 6, 9))


def test_custom_field_on_user():
	assert frappe.get_meta("User").get_field("custom_weekly_digest").fieldtype == "Check"


# --- the figures --------------------------------------------------------------------------------


def test_figures_cover_exactly_the_previous_week():
	start, end = digest_period(datetime.date.today())
	first, last = at(start), at(end, 23, 59, 59)
	customer = make_customer("Digest Customer", creation=first)
	make_customer("Last Week Too", creation=last)
	make_customer("Too Old", creation=first - datetime.timedelta(seconds=1))
	make_customer("This Week", creation=last + datetime.timedelta(seconds=1))
	make_sales_order(customer, creation=first)
	make_sales_order(customer, creation=last)
	make_sales_order(customer, creation=last + datetime.timedelta(seconds=1))
	make_sales_order(customer, creation=first, submit=False)

	# six items, the top five by amount; one invoice outside the week, one draft
	for code in ("ITEM-A", "ITEM-B", "ITEM-C", "ITEM-D", "ITEM-E", "ITEM-F"):
		make_item(code, f"Item {code[-1]}")
	make_sales_invoice(customer, start, [("ITEM-A", 2, 300), ("ITEM-B", 1, 500), ("ITEM-F", 1, 100)])
	make_sales_invoice(customer, end, [("ITEM-C", 4, 100), ("ITEM-D", 1, 300), ("ITEM-E", 2, 100)])
	make_sales_invoice(customer, end + datetime.timedelta(days=1), [("ITEM-F", 100, 100)])
	make_sales_invoice(customer, end, [("ITEM-F", 100, 100)], submit=False)
	for status in ("Open", "Open", "Closed"):
		frappe.get_doc({"doctype": "Issue", "subject": "help", "status": status}).insert(
			ignore_permissions=True
		)
	frappe.db.commit()

	digest = compile_weekly_digest(start, end, 5)

	assert digest.new_orders == 2
	assert digest.new_customers == 2
	assert digest.open_issues == 2
	assert digest.revenue_formatted == ["$ 2,100.00"]
	assert [item.item_code for item in digest.top_items] == ["ITEM-A", "ITEM-B", "ITEM-C", "ITEM-D", "ITEM-E"]
	assert [float(item.total_qty) for item in digest.top_items] == [2, 1, 4, 1, 2]
	assert digest.top_items[0].amount_formatted == "$ 600.00"


# --- one email per subscriber -------------------------------------------------------------------


def test_one_email_per_subscribed_user_rendered_for_that_user():
	anna = subscriber("anna@myapp.test", first_name="Anna")
	bert = subscriber("bert@myapp.test", first_name="Bert & Co", language="de")
	subscriber("not.subscribed@myapp.test", subscribed=0)
	subscriber("disabled@myapp.test", enabled=0)
	subscriber("website@myapp.test", roles=())  # a Website User never gets the business' figures

	stats = send_weekly_digest()

	assert stats == {"sent": 2, "already_sent": 0, "unsubscribed": 0, "failed": 0}
	mails = {m.recipients[0]: m for m in digest_emails()}
	assert set(mails) == {"anna@myapp.test", "bert@myapp.test"}
	for user, mail in ((anna, mails["anna@myapp.test"]), (bert, mails["bert@myapp.test"])):
		assert (mail.reference_doctype, mail.reference_name) == ("User", user)
	anna_html = html_part(mails["anna@myapp.test"].message)
	bert_html = html_part(mails["bert@myapp.test"].message)
	assert "Hi Anna" in anna_html and 'lang="en"' in anna_html
	# v15 stores user names sanitised as HTML ("Bert &amp; Co"); the digest escapes what is stored
	from html import unescape

	stored = frappe.db.get_value("User", bert, "first_name")
	assert stored in unescape(bert_html) and "Bert & Co" not in bert_html
	assert 'lang="de"' in bert_html


def test_a_failing_recipient_is_logged_and_the_others_get_theirs():
	subscriber("anna@myapp.test")
	broken = subscriber("broken@myapp.test")
	subscriber("carl@myapp.test")
	# an address that cannot be sent to (imported data, say)
	frappe.db.set_value("User", broken, "email", "broken address@myapp.test")
	frappe.db.commit()

	stats = send_weekly_digest()

	assert stats == {"sent": 2, "already_sent": 0, "unsubscribed": 0, "failed": 1}
	assert sorted(m.recipients[0] for m in digest_emails()) == ["anna@myapp.test", "carl@myapp.test"]
	[error] = frappe.get_all(
		"Error Log",
		filters={"method": ("like", "Weekly digest%")},
		fields=["method", "reference_doctype", "reference_name"],
	)
	assert (error.reference_doctype, error.reference_name) == ("User", broken)
	assert not frappe.db.get_value("User", broken, "custom_weekly_digest_sent_for")

	# fixed address, re-run: only the one that failed gets it now
	frappe.db.set_value("User", broken, "email", "broken@myapp.test")
	frappe.db.commit()
	assert send_weekly_digest() == {"sent": 1, "already_sent": 2, "unsubscribed": 0, "failed": 0}
	assert sorted(m.recipients[0] for m in digest_emails()) == [
		"anna@myapp.test",
		"broken@myapp.test",
		"carl@myapp.test",
	]


def test_a_globally_unsubscribed_user_is_counted_once_and_not_as_a_failure():
	anna = subscriber("anna@myapp.test")
	subscriber("bert@myapp.test")
	frappe.get_doc(
		{"doctype": "Email Unsubscribe", "email": "anna@myapp.test", "global_unsubscribe": 1}
	).insert(ignore_permissions=True)
	frappe.db.commit()

	assert send_weekly_digest() == {"sent": 1, "already_sent": 0, "unsubscribed": 1, "failed": 0}
	assert [m.recipients[0] for m in digest_emails()] == ["bert@myapp.test"]
	assert frappe.get_all("Error Log", filters={"method": ("like", "Weekly digest%")}) == []
	# the week is handled for her: the next run neither tries nor logs again
	assert send_weekly_digest() == {"sent": 0, "already_sent": 2, "unsubscribed": 0, "failed": 0}
	start, _end = digest_period(datetime.date.today())
	assert frappe.db.get_value("User", anna, "custom_weekly_digest_sent_for") == start


def test_a_rerun_in_the_same_week_sends_nothing_again():
	user = subscriber("anna@myapp.test")
	send_weekly_digest()
	assert send_weekly_digest() == {"sent": 0, "already_sent": 1, "unsubscribed": 0, "failed": 0}
	assert len(digest_emails()) == 1
	start, _end = digest_period(datetime.date.today())
	assert frappe.db.get_value("User", user, "custom_weekly_digest_sent_for") == start


def test_two_runs_at_once_send_each_user_one_digest():
	for n in range(6):
		subscriber(f"reader{n}@myapp.test")
	enqueue(METHOD, job_id="digest-run-1")
	enqueue(METHOD, job_id="digest-run-2")
	drain_queues(workers=2)

	recipients = sorted(m.recipients[0] for m in digest_emails())
	assert recipients == [f"reader{n}@myapp.test" for n in range(6)]


def test_disabled_in_report_settings_sends_nothing():
	subscriber("anna@myapp.test")
	frappe.db.set_single_value("Report Settings", "send_weekly_digest", 0)
	frappe.db.commit()
	assert send_weekly_digest() is None
	assert digest_emails() == []


def test_site_without_erpnext_logs_and_sends_nothing(site_without_erpnext):
	assert not frappe.db.exists("DocType", "Sales Invoice")
	subscriber("anna@myapp.test")

	assert send_weekly_digest() is None

	assert queued_emails() == []
	assert frappe.db.count("Error Log") == 0
