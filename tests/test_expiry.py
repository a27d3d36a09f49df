"""Example 5: expiry reminders from Expiry Rules: threshold day +-1, exactly once, catch-up after a
skipped day without a flood, a run that loses the race, cancelled documents, disabled users,
escaping, the default rules and the unique index."""

import datetime
import time

import frappe
import pytest
from conftest import make_user, queued_emails, start_worker
from frappe.utils import get_url_to_form
from frappe.utils.background_jobs import enqueue
from mail_content import html_part, subject
from sales_records import make_customer

from myapp.expiry import check_expiring_documents, due_threshold
from myapp.install import EXPIRY_LOG_UNIQUE_INDEX, create_default_expiry_rules

# ERPNext DocTypes throughout: skipped on a bench site without ERPNext (see conftest.erpnext)
pytestmark = pytest.mark.usefixtures("erpnext")

LOG = "Expiry Notification Log"
TODAY = datetime.date.today()


def days(n):
	return TODAY + datetime.timedelta(days=n)


@pytest.fixture
def owner():
	user = make_user("contract.owner@myapp.test", roles=["Sales User"])
	frappe.db.commit()
	return user


def make_rule(document_type="Contract", date_field="end_date", days_before="7", user_field="", enabled=1):
	return frappe.get_doc(
		{
			"doctype": "Expiry Rule",
			"document_type": document_type,
			"date_field": date_field,
			"days_before": days_before,
			"user_field": user_field,
			"enabled": enabled,
		}
	).insert(ignore_permissions=True)


def make_contract(end_date, owner=None, submit=False, **values):
	customer = make_customer(f"Party {frappe.generate_hash(length=6)}")
	doc = frappe.get_doc(
		{
			"doctype": "Contract",
			"party_type": "Customer",
			"party_name": customer,
			"start_date": days(-300),
			"end_date": end_date,
			"contract_terms": "terms",
			**values,
		}
	).insert(ignore_permissions=True)
	if submit:
		doc.submit()
	if owner:
		frappe.db.set_value("Contract", doc.name, "owner", owner, update_modified=False)
	frappe.db.commit()
	return doc.name


def reminders(name=None):
	filters = {"reference_name": name} if name else {}
	return frappe.get_all(
		LOG, filters=filters, fields=["reference_name", "days_before", "user"], order_by="days_before desc"
	)


def notifications(user=None):
	filters = {"for_user": user} if user else {}
	return frappe.get_all(
		"Notification Log",
		filters=filters,
		fields=["for_user", "subject", "document_name", "email_content", "type"],
	)


# --- registration and the threshold rule --------------------------------------------------------


def test_registered_daily():
	job_type = frappe.get_doc("Scheduled Job Type", {"method": "myapp.expiry.check_expiring_documents"})
	assert job_type.frequency == "Daily"


@pytest.mark.parametrize(
	"days_left, expected",
	[(31, None), (30, 30), (29, 30), (8, 30), (7, 7), (6, 7), (2, 7), (1, 1), (0, 1), (-1, None)],
)
def test_due_threshold_is_the_nearest_reached(days_left, expected):
	assert due_threshold(days_left, [30, 7, 1]) == expected


# --- threshold day +-1, once --------------------------------------------------------------------


def test_reminder_on_the_threshold_day_not_the_day_before(owner):
	make_rule(days_before="7")
	early = make_contract(days(8), owner=owner)
	on_the_day = make_contract(days(7), owner=owner)

	stats = check_expiring_documents()

	assert stats["sent"] == 1
	assert reminders(early) == []
	assert reminders(on_the_day) == [{"reference_name": on_the_day, "days_before": 7, "user": owner}]
	[notification] = notifications(owner)
	assert notification.document_name == on_the_day and notification.type == "Alert"
	assert (
		notification.subject
		== f"Contract {frappe.db.get_value('Contract', on_the_day, 'party_name')} expires in 7 days"
	)
	[mail] = queued_emails()
	assert mail.recipients == ["contract.owner@myapp.test"]
	assert (mail.reference_doctype, mail.reference_name) == ("Contract", on_the_day)
	html = html_part(mail.message)
	assert f'href="{get_url_to_form("Contract", on_the_day)}"' in html  # the name URL-quoted
	assert "expires in 7 days" in html


def test_sent_once_however_often_it_runs(owner):
	make_rule(days_before="7")
	name = make_contract(days(7), owner=owner)

	check_expiring_documents()
	stats = check_expiring_documents()

	assert stats["sent"] == 0
	assert len(reminders(name)) == 1 and len(notifications()) == 1 and len(queued_emails()) == 1


def test_the_day_after_a_threshold_is_a_catch_up(owner):
	make_rule(days_before="7")
	late = make_contract(days(6), owner=owner)  # the 7-day reminder was due yesterday

	check_expiring_documents()

	assert reminders(late) == [{"reference_name": late, "days_before": 7, "user": owner}]
	assert subject(queued_emails()[0].message).endswith("expires in 6 days")


def test_a_skipped_day_catches_up_the_nearest_threshold_only(owner):
	make_rule(days_before="30, 7, 1")
	name = make_contract(days(10), owner=owner)

	# the scheduler ran 35 days before the end (nothing due), was down for 30 days, runs again
	check_expiring_documents(today=days(-25))
	assert reminders(name) == []
	check_expiring_documents(today=days(5))  # 5 days left: 30 and 7 were missed, 7 is the nearest

	assert [r.days_before for r in reminders(name)] == [7]
	assert len(queued_emails()) == 1

	check_expiring_documents(today=days(6))  # the next day, 4 days left: nothing new
	check_expiring_documents(today=days(9))  # 1 day left
	assert [r.days_before for r in reminders(name)] == [7, 1]
	check_expiring_documents(today=days(11))  # expired: nothing more
	assert len(reminders(name)) == 2 and len(queued_emails()) == 2


# --- who gets nothing ---------------------------------------------------------------------------


def test_cancelled_documents_get_nothing(owner):
	make_rule(days_before="7")
	submitted = make_contract(days(7), owner=owner, submit=True)
	cancelled = make_contract(days(7), owner=owner, submit=True)
	frappe.get_doc("Contract", cancelled).cancel()
	frappe.db.commit()

	check_expiring_documents()

	assert [r.reference_name for r in reminders()] == [submitted]


def test_disabled_users_get_nothing_until_enabled(owner):
	make_rule(days_before="7")
	name = make_contract(days(7), owner=owner)
	frappe.db.set_value("User", owner, "enabled", 0)
	frappe.db.commit()

	stats = check_expiring_documents()

	assert stats["user_disabled"] == 1
	assert reminders() == [] and notifications() == [] and queued_emails() == []

	frappe.db.set_value("User", owner, "enabled", 1)
	frappe.db.commit()
	check_expiring_documents(today=days(1))  # enabled again before expiry: the nearest reminder
	assert [r.days_before for r in reminders(name)] == [7]


def test_disabled_rules_and_rules_of_missing_doctypes_do_nothing(owner):
	make_rule(days_before="7", enabled=0)
	make_contract(days(7), owner=owner)
	# a rule whose DocType is gone (an app uninstalled) is skipped, not an error
	frappe.db.sql(
		"insert into `tabExpiry Rule` (name, document_type, date_field, days_before, enabled, creation, modified)"
		" values ('License-valid_till', 'License', 'valid_till', '60, 30, 7', 1, now(), now())"
	)
	frappe.db.commit()

	stats = check_expiring_documents()

	assert stats["sent"] == 0 and reminders() == []
	assert frappe.db.count("Error Log") == 0


# --- the user to remind -------------------------------------------------------------------------


def test_the_rules_user_field_else_the_owner(owner):
	signer = make_user("signer@myapp.test", roles=["Sales User"])
	make_rule(days_before="7", user_field="signed_by_company")
	signed = make_contract(days(7), owner=owner, signed_by_company=signer)
	unsigned = make_contract(days(7), owner=owner)

	check_expiring_documents()

	assert reminders(signed)[0].user == signer
	assert reminders(unsigned)[0].user == owner
	assert sorted(m.recipients[0] for m in queued_emails()) == [
		"contract.owner@myapp.test",
		"signer@myapp.test",
	]


# --- escaping -----------------------------------------------------------------------------------


def test_names_and_titles_are_escaped(owner):
	make_rule(document_type="ToDo", date_field="date", user_field="allocated_to", days_before="7")
	title = '<img src=x onerror="alert(1)"> & Sons'
	todo = frappe.get_doc(
		{"doctype": "ToDo", "description": title, "date": days(7), "allocated_to": owner}
	).insert(ignore_permissions=True)
	frappe.db.commit()

	check_expiring_documents()

	# v15 sanitises the Text Editor value on save (the handler goes), and the tag stays
	stored = frappe.db.get_value("ToDo", todo.name, "description")
	assert "onerror" not in stored and "<img" in stored
	html = html_part(queued_emails()[0].message)
	# the title is in the email as text, never as markup (v15's mail pipeline also makes the
	# src absolute, so the exact spelling is its own)
	assert "<img" not in html and "&lt;img src=" in html and "Sons" in html
	[notification] = notifications(owner)
	assert "<img" not in notification.subject and "&lt;img" in notification.subject
	assert "<img" not in notification.email_content
	assert todo.name in html


# --- two runs at once ---------------------------------------------------------------------------


def test_a_run_that_loses_the_race_sends_nothing(owner):
	make_rule(days_before="7")
	name = make_contract(days(7), owner=owner)
	# this connection is a run that has claimed the reminder and not committed yet
	frappe.get_doc(
		{
			"doctype": LOG,
			"reference_doctype": "Contract",
			"reference_name": name,
			"days_before": 7,
			"user": owner,
		}
	).insert(ignore_permissions=True)

	job = enqueue("myapp.expiry.check_expiring_documents")
	worker = start_worker()  # the second run, in its own process and transaction
	try:
		wait_for_insert_blocked_on_our_row()
	finally:
		frappe.db.commit()  # the first run commits; the second gets the duplicate key
		worker.communicate(timeout=120)

	job.refresh()
	assert job.get_status() == "finished"
	assert job.return_value()["already_sent"] == 1 and job.return_value()["sent"] == 0
	assert len(reminders(name)) == 1
	assert notifications() == [] and queued_emails() == []  # the loser sent nothing


def wait_for_insert_blocked_on_our_row(seconds=60):
	deadline = time.monotonic() + seconds
	while time.monotonic() < deadline:
		blocked = frappe.db.sql(
			"""select id from information_schema.processlist
			where id != connection_id() and lower(info) like 'insert into `tabexpiry notification log`%%'"""
		)
		if blocked:
			return
		time.sleep(0.05)
	raise AssertionError("the second run never tried to insert the reminder")


def test_the_unique_index_exists():
	assert frappe.db.has_index("tabExpiry Notification Log", EXPIRY_LOG_UNIQUE_INDEX)
	name = make_contract(days(30))
	values = {"doctype": LOG, "reference_doctype": "Contract", "reference_name": name, "days_before": 30}
	frappe.get_doc(values).insert(ignore_permissions=True)
	with pytest.raises(frappe.UniqueValidationError):
		frappe.get_doc(values).insert(ignore_permissions=True)


# --- rules: defaults and validation ----------------------------------------------------------------


def test_default_rules_for_the_doctypes_this_site_has():
	create_default_expiry_rules()
	create_default_expiry_rules()  # idempotent

	rules = frappe.get_all(
		"Expiry Rule", fields=["document_type", "date_field", "days_before", "user_field", "enabled"]
	)
	# Contract (ERPNext) has no `contract_owner` field: the owner is reminded
	assert rules == [
		{
			"document_type": "Contract",
			"date_field": "end_date",
			"days_before": "30, 7, 1",
			"user_field": "",
			"enabled": 1,
		}
	]


def test_rule_validation():
	rule = make_rule(days_before=" 1,30 ,7,7")
	assert rule.days_before == "30, 7, 1"
	with pytest.raises(frappe.ValidationError):
		make_rule(date_field="party_name")  # not a date
	with pytest.raises(frappe.ValidationError):
		make_rule(date_field="start_date", user_field="party_name")  # not a Link to User
	with pytest.raises(frappe.ValidationError):
		make_rule(date_field="start_date", days_before="soon")
