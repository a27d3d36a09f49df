import datetime

import frappe


class Scene:
	title = ""
	method = None
	schedule = ""

	@property
	def job_type_name(self):
		return ".".join(self.method.split(".")[-2:]) if self.method else None

	def seed(self):
		pass

	def run(self):
		pass

	def report(self) -> str:
		return ""


def backdate(doctype, name, days):
	when = datetime.datetime.now() - datetime.timedelta(days=days)
	frappe.db.sql(f"update `tab{doctype}` set creation=%s, modified=%s where name=%s", (when, when, name))


def ensure(doctype, name, **values):
	"""A master record the demo links to, created when missing."""
	if not frappe.db.exists(doctype, name):
		frappe.get_doc({"doctype": doctype, **values}).insert(ignore_permissions=True)
