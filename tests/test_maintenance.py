"""Example 1: daily database maintenance deletes exactly what is past retention, set-based."""

import datetime

import frappe
import pytest
from conftest import days_ago, drain_queues, run_scheduler
from support import BENCH_SITE

from myapp.maintenance import daily_database_maintenance


def backdate(doctype, name, when):
	frappe.db.sql(f"update `tab{doctype}` set creation=%s, modified=%s where name=%s", (when, when, name))


def make_error_log(age_days, title="test error"):
	doc = frappe.log_error(title=title, message="traceback")
	backdate("Error Log", doc.name, days_ago(age_days))
	return doc.name


def make_activity_log(age_days):
	doc = frappe.get_doc(
		{"doctype": "Activity Log", "subject": "logged in", "status": "Success", "user": "Administrator"}
	).insert(ignore_permissions=True)
	backdate("Activity Log", doc.name, days_ago(age_days))
	return doc.name


def make_email(status, age_days, recipients=("a@example.com", "b@example.com")):
	frappe.sendmail(recipients=list(recipients), subject="hello", message="hello", delayed=True)
	name = frappe.get_all("Email Queue", order_by="creation desc", limit=1, pluck="name")[0]
	frappe.db.set_value("Email Queue", name, "status", status, update_modified=False)
	backdate("Email Queue", name, days_ago(age_days))
	return name


def make_versions(docname, ages_in_days):
	"""One Version per age, for ToDo `docname`; returns the names newest first."""
	names = []
	for age in ages_in_days:
		doc = frappe.get_doc(
			{"doctype": "Version", "ref_doctype": "ToDo", "docname": docname, "data": "{}"}
		).insert(ignore_permissions=True)
		backdate("Version", doc.name, days_ago(age))
		names.append((days_ago(age), doc.name))
	return [name for _, name in sorted(names, reverse=True)]


def exists(doctype, name):
	return bool(frappe.db.exists(doctype, name))


def test_error_and_activity_logs_are_kept_until_their_retention_days():
	old_error, recent_error = make_error_log(31), make_error_log(29)
	old_activity, recent_activity = make_activity_log(91), make_activity_log(89)
	frappe.db.commit()

	stats = daily_database_maintenance()

	assert stats["error_logs_deleted"] == 1
	assert stats["activity_logs_deleted"] == 1
	assert not exists("Error Log", old_error) and exists("Error Log", recent_error)
	assert not exists("Activity Log", old_activity) and exists("Activity Log", recent_activity)


def test_email_queue_clears_finished_emails_with_their_recipients():
	sent, expired, error = make_email("Sent", 8), make_email("Expired", 8), make_email("Error", 8)
	not_sent_old = make_email("Not Sent", 8)
	sent_recent = make_email("Sent", 6)
	frappe.db.commit()

	stats = daily_database_maintenance()

	assert stats["email_queue_cleared"] == 3
	for name in (sent, expired, error):
		assert not exists("Email Queue", name)
	assert exists("Email Queue", not_sent_old) and exists("Email Queue", sent_recent)
	orphans = frappe.db.sql(
		"""select count(*) from `tabEmail Queue Recipient` r
		left join `tabEmail Queue` q on q.name = r.parent where q.name is null"""
	)[0][0]
	assert orphans == 0
	assert frappe.db.count("Email Queue Recipient") == 4  # two emails kept, two recipients each


def test_versions_keep_the_five_newest_of_each_document_and_everything_recent():
	# newest first: 3 recent versions, then 5 old ones; positions 6, 7, 8 are old and not in the newest 5
	busy = make_versions("TODO-busy", [10, 20, 30, 190, 200, 210, 220, 230])
	# 4 old versions only: all within the newest 5, all kept
	quiet = make_versions("TODO-quiet", [300, 310, 320, 330])
	# 7 versions, all recent: nothing is old enough
	recent = make_versions("TODO-recent", [1, 2, 3, 4, 5, 6, 7])
	frappe.db.commit()

	stats = daily_database_maintenance()

	assert stats["versions_cleaned"] == 3
	assert all(exists("Version", name) for name in busy[:5]), "the 5 newest are kept"
	assert not any(exists("Version", name) for name in busy[5:]), "the 6th newest and older go"
	assert all(exists("Version", name) for name in quiet + recent)


def test_old_sync_logs_are_cleared_by_frappes_log_settings():
	"""Sync Log is registered with Log Settings (default 30 days) through its clear_old_logs."""
	from frappe.model.document import get_controller

	assert frappe.get_hooks("default_log_clearing_doctypes")["Sync Log"] in (30, [30])
	logs = {}
	for age in (31, 29):
		log = frappe.get_doc({"doctype": "Sync Log", "sync_type": "Push", "status": "Success"})
		log.insert(ignore_permissions=True)
		backdate("Sync Log", log.name, days_ago(age))
		logs[age] = log.name
	frappe.db.commit()

	assert "sync_logs_deleted" not in daily_database_maintenance()
	assert exists("Sync Log", logs[31])
	if BENCH_SITE:
		# what the daily job of Log Settings runs: it registers Sync Log from the hook, then clears
		from frappe.core.doctype.log_settings.log_settings import run_log_clean_up

		run_log_clean_up()
		assert frappe.db.get_value("Logs To Clear", {"ref_doctype": "Sync Log"}, "days") == 30
	else:
		get_controller("Sync Log").clear_old_logs(days=30)
	frappe.db.commit()
	assert not exists("Sync Log", logs[31]) and exists("Sync Log", logs[29])


def test_retention_days_come_from_maintenance_settings():
	frappe.db.set_single_value("Maintenance Settings", "error_log_retention_days", 10)
	eleven_days, nine_days = make_error_log(11), make_error_log(9)
	frappe.db.commit()

	daily_database_maintenance()

	assert not exists("Error Log", eleven_days) and exists("Error Log", nine_days)


def test_deletes_in_committed_batches_without_per_row_side_effects():
	frappe.db.set_single_value("Maintenance Settings", "delete_batch_size", 7)
	frappe.db.bulk_insert(
		"Error Log",
		["name", "creation", "modified", "method", "error"],
		[(f"old-{i}", days_ago(40), days_ago(40), "bulk", "x") for i in range(50)],
	)
	frappe.db.commit()

	stats = daily_database_maintenance()

	assert stats["error_logs_deleted"] == 50
	assert frappe.db.count("Error Log", {"method": "bulk"}) == 0
	# set-based: no Deleted Document copies, no delete_dynamic_links job per row
	assert frappe.db.count("Deleted Document", {"deleted_doctype": "Error Log"}) == 0
	from frappe.utils.background_jobs import get_queue

	assert get_queue("default").count == 0


def test_a_failing_cleanup_is_logged_and_the_others_still_run():
	old_error = make_error_log(31)
	old_activity = make_activity_log(91)
	frappe.db.commit()
	# An Activity Log table without its `modified` column makes that cleanup's query fail for real.
	frappe.db.sql_ddl("alter table `tabActivity Log` change modified modified_at datetime(6)")
	try:
		stats = daily_database_maintenance()
	finally:
		frappe.db.sql_ddl("alter table `tabActivity Log` change modified_at modified datetime(6)")

	assert stats["activity_logs_deleted"] is None
	assert stats["error_logs_deleted"] == 1 and not exists("Error Log", old_error)
	assert exists("Activity Log", old_activity)
	assert frappe.db.exists("Error Log", {"method": "Daily Maintenance: activity_logs_deleted failed"})


def test_runs_on_the_long_queue_from_the_scheduler_and_leaves_a_job_log():
	old_error = make_error_log(31)
	frappe.db.commit()
	tomorrow = datetime.datetime.combine(
		datetime.date.today() + datetime.timedelta(days=1), datetime.time(0, 11)
	)  # *_long jobs get up to 10 min of jitter

	enqueued = run_scheduler(tomorrow)
	assert "myapp.maintenance.daily_database_maintenance" in enqueued
	from frappe.utils.background_jobs import get_queue

	assert get_queue("long").count >= 1
	drain_queues(queues="long")

	assert not exists("Error Log", old_error)
	log = frappe.get_all(
		"Scheduled Job Log",
		filters={"scheduled_job_type": "maintenance.daily_database_maintenance"},
		fields=["status"],
	)
	assert [row.status for row in log] == ["Complete"]


@pytest.mark.parametrize("budget_seconds", [0])
def test_an_exhausted_time_budget_starts_no_batch(budget_seconds):
	old_error = make_error_log(31)
	frappe.db.commit()
	frappe.db.sql(
		"update `tabSingles` set value=%s where doctype='Maintenance Settings' and field='time_budget_seconds'",
		budget_seconds,
	)
	frappe.db.commit()

	stats = daily_database_maintenance()

	assert stats["time_budget_exhausted"] is True
	assert stats["error_logs_deleted"] == 0 and exists("Error Log", old_error)


def test_batches_walk_the_index_and_delete_exactly_the_old_rows():
	"""Batches of 5 along `modified`: runs of equal timestamps longer than a batch, and the rows at
	the cutoff's edge, are each deleted once and the newer rows stay."""
	from myapp.utils.batching import TimeBudget, delete_where

	base = days_ago(40)
	ages = [base] * 12 + [base + datetime.timedelta(seconds=s) for s in range(1, 9)]  # 12 share one
	old = [make_error_log(40) for _ in ages]
	for name, when in zip(old, ages, strict=True):
		backdate("Error Log", name, when)
	recent = [make_error_log(5) for _ in range(3)]
	frappe.db.commit()

	deleted = delete_where(
		"Error Log", "modified < %(cutoff)s", {"cutoff": days_ago(30)}, batch_size=5, budget=TimeBudget(60)
	)

	assert deleted == len(old)
	assert not any(exists("Error Log", name) for name in old)
	assert all(exists("Error Log", name) for name in recent)
