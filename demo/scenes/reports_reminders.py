"""Workflow 2 (weekday summary), workflow 8 (scheduler health), example 4 (weekly digest) and
example 5 (expiry reminders)."""

import datetime

import frappe
from sales_records import ensure_master_data, make_customer, make_item, make_sales_invoice, make_sales_order

from scenes.base import Scene


class WeekdaySummary(Scene):
	title = "Weekday summary email"
	method = "myapp.tasks.weekday_summary_email"
	schedule = "cron 0 9 * * 1-5"

	def seed(self):
		ensure_master_data()
		yesterday = datetime.date.today() - datetime.timedelta(days=1)
		customer = make_customer("Demo Summary Customer")
		for total in (120, 80):
			make_sales_order(
				customer, grand_total=total, creation=datetime.datetime.combine(yesterday, datetime.time(10))
			)
		make_sales_invoice(customer, yesterday, [(make_item("Demo Widget"), 2, 50)])

	def report(self):
		sent = frappe.get_all(
			"Email Queue", filters={"message": ("like", "%Daily Summary%")}, fields=["name"], limit=100
		)
		return f"{len(sent)} summary emails queued (one per weekday 09:00 tick, none on Sat/Sun)"


class SchedulerHealth(Scene):
	title = "Scheduler health check"
	method = "myapp.tasks.scheduler_health_check"
	schedule = "cron */15 * * * *"

	def report(self):
		alerts = frappe.db.count("Error Log", {"method": ("like", "%Scheduler Health%")})
		return f"ran at every tick; {alerts} alerts (each condition at most once per quiet period)"


class WeeklyDigest(Scene):
	title = "Weekly digest"
	method = "myapp.newsletter.send_weekly_digest"
	schedule = "cron 0 8 * * 1"

	def seed(self):
		for email, name in (("ada@myapp.demo", "Ada"), ("grace@myapp.demo", "Grace <Admin>")):
			frappe.get_doc(
				{
					"doctype": "User",
					"email": email,
					"first_name": name,
					"user_type": "System User",
					"send_welcome_email": 0,
					"custom_weekly_digest": 1,
					# a desk role makes them System Users, the only users a digest goes to
					"roles": [{"role": "Sales User"}],
				}
			).insert(ignore_permissions=True)

	def report(self):
		sent = frappe.get_all(
			"Email Queue",
			filters={"reference_doctype": "User", "message": ("like", "%Weekly Digest%")},
			pluck="name",
		)
		return f"{len(sent)} digests queued for 2 subscribers (Monday 08:00; never twice in a week)"


class ExpiryReminders(Scene):
	title = "Expiry reminders"
	method = "myapp.expiry.check_expiring_documents"
	schedule = "daily"

	def seed(self):
		ensure_master_data()
		today = datetime.date.today()
		self.contracts = []
		for days in (30, 7, 6, 40):
			contract = frappe.get_doc(
				{
					"doctype": "Contract",
					"party_type": "Customer",
					"party_name": make_customer(f"Demo Party {days}"),
					"start_date": today - datetime.timedelta(days=300),
					"end_date": today + datetime.timedelta(days=days),
					"contract_terms": "demo",
				}
			).insert(ignore_permissions=True)
			self.contracts.append(contract.name)

	def report(self):
		sent = frappe.get_all(
			"Expiry Notification Log",
			filters={"reference_name": ("in", self.contracts)},
			fields=["days_before"],
		)
		thresholds = ", ".join(str(days) for days in sorted((row.days_before for row in sent), reverse=True))
		return (
			f"{len(sent)} reminders for 4 contracts ending in 30/7/6/40 days (at {thresholds} days), "
			f"{frappe.db.count('Notification Log')} Desk notifications; 7 daily runs, each sent once"
		)


SCENES = [WeekdaySummary(), SchedulerHealth(), WeeklyDigest(), ExpiryReminders()]
