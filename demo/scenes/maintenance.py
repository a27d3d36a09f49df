"""Workflow 1 (daily file cleanup) and example 1 (daily database maintenance)."""

import frappe

from scenes.base import Scene, backdate


class DailyCleanup(Scene):
	title = "Daily file cleanup"
	method = "myapp.tasks.daily_cleanup"
	schedule = "daily"

	def seed(self):
		self.files = {}
		for label, age, private in (
			("old", 10, 1),
			("old", 12, 1),
			("old", 30, 1),
			("recent", 2, 1),
			("public", 30, 0),
		):
			doc = frappe.get_doc(
				{
					"doctype": "File",
					"file_name": f"demo-{label}-{age}.txt",
					"content": "demo",
					"is_private": private,
				}
			).insert(ignore_permissions=True)
			backdate("File", doc.name, age)
			self.files.setdefault(label, []).append(doc.name)

	def report(self):
		gone = sum(1 for name in self.files["old"] if not frappe.db.exists("File", name))
		kept = sum(
			1 for name in self.files["recent"] + self.files["public"] if frappe.db.exists("File", name)
		)
		return f"deleted {gone} of 3 old unattached private files; kept {kept} of 2 (recent, public)"


class DatabaseMaintenance(Scene):
	title = "Database maintenance"
	method = "myapp.maintenance.daily_database_maintenance"
	schedule = "daily_long"

	def seed(self):
		now = frappe.utils.now_datetime()
		rows = []
		for i in range(20_000):
			when = frappe.utils.add_days(now, -(40 if i % 4 else 5))
			rows.append((f"demo-error-{i}", when, when, "demo", "Traceback ..."))
		frappe.db.bulk_insert("Error Log", ["name", "creation", "modified", "method", "error"], rows)
		self.old_errors = sum(1 for i in range(20_000) if i % 4)
		for i in range(8):
			version = frappe.get_doc(
				{"doctype": "Version", "ref_doctype": "ToDo", "docname": "DEMO-TODO", "data": "{}"}
			).insert(ignore_permissions=True)
			backdate("Version", version.name, 200 + i)

	def report(self):
		errors_left = frappe.db.count("Error Log", {"method": "demo"})
		versions_left = frappe.db.count("Version", {"docname": "DEMO-TODO"})
		return (
			f"deleted {20_000 - errors_left:,} Error Logs older than 30 days ({self.old_errors:,} seeded), "
			f"kept {errors_left:,} recent; kept the {versions_left} newest of 8 old Versions"
		)


SCENES = [DailyCleanup(), DatabaseMaintenance()]
