"""Data and file helpers shared by the tests of the user-triggered jobs (export, report, import)."""

import csv
import io
import os

import frappe


def ensure(doctype, name, **values):
	"""A master record (Customer Group, Territory, Company...) that persists across tests."""
	if not frappe.db.exists(doctype, name):
		frappe.get_doc({"doctype": doctype, **values}).insert(ignore_permissions=True)
	return name


def tree_root(doctype: str, root: str) -> str:
	"""The root of an ERPNext tree: on a real site the setup wizard made it ("All Customer Groups");
	a new group without a parent would be refused there as a second root."""
	name_field = frappe.scrub(doctype) + "_name"
	return ensure(doctype, root, **{name_field: root, "is_group": 1})


def customer_masters():
	groups_root = tree_root("Customer Group", "All Customer Groups")
	for group in ("Retail", "Wholesale", "Commercial"):
		ensure("Customer Group", group, customer_group_name=group, parent_customer_group=groups_root)
	ensure(
		"Territory",
		"Europe",
		territory_name="Europe",
		parent_territory=tree_root("Territory", "All Territories"),
	)
	frappe.db.commit()


def make_customer(customer_name, customer_group="Retail", territory="Europe", **values):
	return (
		frappe.get_doc(
			{
				"doctype": "Customer",
				"customer_name": customer_name,
				"customer_group": customer_group,
				"territory": territory,
				**values,
			}
		)
		.insert(ignore_permissions=True)
		.name
	)


def user_permission(user, allow, for_value):
	frappe.get_doc(
		{
			"doctype": "User Permission",
			"user": user,
			"allow": allow,
			"for_value": for_value,
			"apply_to_all_doctypes": 1,
		}
	).insert(ignore_permissions=True)


def file_path(file_url):
	name = frappe.db.get_value("File", {"file_url": file_url}, "name")
	return frappe.get_doc("File", name).get_full_path()


def read_csv_file(file_url):
	"""(raw bytes, rows) of a CSV File."""
	with open(file_path(file_url), "rb") as f:
		raw = f.read()
	return raw, list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def upload_csv(file_name, content, owner=None, encoding="utf-8"):
	"""A private File holding `content` (rows as lists, or text), as the user's upload would be."""
	if isinstance(content, list):
		buffer = io.StringIO(newline="")
		csv.writer(buffer, lineterminator="\n").writerows(content)
		content = buffer.getvalue()
	data = content.encode(encoding) if isinstance(content, str) else content
	file = frappe.get_doc({"doctype": "File", "file_name": file_name, "content": data, "is_private": 1})
	file.insert(ignore_permissions=True)
	if owner:
		frappe.db.set_value("File", file.name, "owner", owner)
	frappe.db.commit()
	return file.file_url


def files_on_disk():
	return set(os.listdir(frappe.get_site_path("private", "files")))


def messages(realtime_events, user, indicator=None):
	"""The msgprint messages published for `user` (optionally of one indicator)."""
	return [
		e["message"]
		for e in realtime_events("msgprint")
		if e["room"] == f"user:{user}" and (indicator is None or e["message"].get("indicator") == indicator)
	]


def upload_xlsx(file_name, rows, owner=None):
	"""A private File holding an Excel workbook (.xlsx) whose first sheet has `rows`, as a user
	would upload it. A cell of None is left empty."""
	from openpyxl import Workbook

	workbook = Workbook(write_only=True)
	sheet = workbook.create_sheet("Data")
	for row in rows:
		sheet.append(row)
	buffer = io.BytesIO()
	workbook.save(buffer)
	return upload_csv(file_name, buffer.getvalue(), owner=owner)
