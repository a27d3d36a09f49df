"""Documents, queries, permissions and transactions with Frappe v15's semantics.

These pin the behaviour the app relies on; in a bench (MYAPP_TEST_SITE) they run against the real
frappe, so a difference between the two is a testbed bug.
"""

import frappe
import pytest
from conftest import make_user
from frappe.custom.doctype.custom_field.custom_field import create_custom_fields
from frappe.utils import add_days, getdate, nowdate
from frappe.utils.background_jobs import get_queue


def make_customer(name, group="Commercial", **fields):
	from user_jobs_helpers import customer_masters

	customer_masters()  # groups under the tree's root, as on a real site after the setup wizard
	return frappe.get_doc(
		{
			"doctype": "Customer",
			"customer_name": name,
			"customer_group": group,
			"territory": "Europe",
			**fields,
		}
	).insert(ignore_permissions=True)


def draft_order(customer, items=(("SERVICE", 1, 10),)):
	"""A draft Sales Order ERPNext 15 accepts: company, delivery date, items that exist (services:
	no warehouse needed)."""
	from sales_records import COMPANY, CURRENCY, make_item

	today = nowdate()
	rows = []
	for item_code, qty, rate in items:
		make_item(item_code, is_stock_item=0)
		rows.append({"item_code": item_code, "qty": qty, "rate": rate, "delivery_date": today})
	return frappe.get_doc(
		{
			"doctype": "Sales Order",
			"customer": customer,
			"company": COMPANY,
			"currency": CURRENCY,
			"transaction_date": today,
			"delivery_date": today,
			"items": rows,
		}
	).insert(ignore_permissions=True)


def make_todo(description, **fields):
	return frappe.get_doc({"doctype": "ToDo", "description": description, **fields}).insert(
		ignore_permissions=True
	)


# naming


def test_naming_hash_field_and_series(erpnext):
	todo = make_todo("hash named")
	assert len(todo.name) == 10 and todo.name.isalnum()
	customer = make_customer("Acme")
	assert customer.name == "Acme"

	first, second = draft_order(customer.name), draft_order(customer.name)
	prefix, number = first.name.rsplit("-", 1)
	assert second.name == f"{prefix}-{int(number) + 1:05d}"


def test_a_name_passed_in_is_ignored_unless_importing():
	assert make_todo("x", name="my-own-name").name != "my-own-name"
	frappe.flags.in_import = True
	try:
		assert make_todo("y", name="my-own-name").name == "my-own-name"
	finally:
		frappe.flags.in_import = False


# queries


def test_filters_follow_frappe_null_semantics():
	with_status = make_todo("a", status="Open")
	closed = make_todo("b", status="Closed")
	no_reference = make_todo("c")
	frappe.db.set_value("ToDo", no_reference.name, "reference_type", None)
	names = set(frappe.get_all("ToDo", filters={"reference_type": ("!=", "Customer")}, pluck="name"))
	assert {with_status.name, closed.name, no_reference.name} <= names, "!= matches NULL like ifnull(x, '')"
	assert frappe.get_all("ToDo", filters={"status": ("in", ["Closed"])}, pluck="name") == [closed.name]
	assert closed.name not in frappe.get_all("ToDo", filters={"status": ("not in", ["Closed"])}, pluck="name")
	assert set(frappe.get_all("ToDo", filters={"reference_type": ("is", "not set")}, pluck="name")) >= {
		no_reference.name
	}
	assert frappe.get_all("ToDo", filters=[["description", "like", "b%"]], pluck="name") == [closed.name]


def test_fields_aggregates_order_and_paging():
	for i in range(5):
		make_todo(f"todo {i}", status="Open" if i % 2 else "Closed", priority="High")
	counts = frappe.get_all(
		"ToDo", fields=["status", "count(*) as n"], group_by="status", order_by="status asc"
	)
	assert [(row.status, row.n) for row in counts] == [("Closed", 3), ("Open", 2)]
	page = frappe.get_all(
		"ToDo", fields=["description"], order_by="description asc", limit_start=1, limit_page_length=2
	)
	assert [row.description for row in page] == ["todo 1", "todo 2"]
	assert frappe.db.count("ToDo", {"status": "Open"}) == 2
	assert frappe.db.sql("delete from `tabToDo` where status='Closed'") == ()


def test_between_dates_and_as_iterator_with_unbuffered_cursor():
	make_todo("today", date=nowdate())
	make_todo("last week", date=add_days(nowdate(), -7))
	in_range = frappe.get_all(
		"ToDo", filters={"date": ("between", [add_days(nowdate(), -1), nowdate()])}, pluck="description"
	)
	assert in_range == ["today"]
	with frappe.db.unbuffered_cursor():
		rows = list(
			frappe.db.sql(
				"select description from `tabToDo` order by description", as_dict=True, as_iterator=True
			)
		)
	assert [row.description for row in rows] == ["last week", "today"]


def test_get_list_applies_role_and_user_permissions_get_all_does_not(erpnext):
	make_customer("Retail One", group="Retail")
	make_customer("Commercial One", group="Commercial")
	sales_user = make_user("sales@myapp.test", roles=["Sales User"])
	nobody = make_user("nobody@myapp.test", roles=[])
	frappe.get_doc(
		{"doctype": "User Permission", "user": sales_user, "allow": "Customer Group", "for_value": "Retail"}
	).insert(ignore_permissions=True)
	frappe.db.commit()

	frappe.set_user(sales_user)
	assert frappe.get_list("Customer", pluck="name") == ["Retail One"]
	assert len(frappe.get_all("Customer", pluck="name")) == 2
	assert frappe.has_permission("Customer", "read", doc=frappe.get_doc("Customer", "Retail One"))
	assert not frappe.has_permission("Customer", "read", doc=frappe.get_doc("Customer", "Commercial One"))
	frappe.set_user(nobody)
	assert not frappe.has_permission("Customer", "read")
	with pytest.raises(frappe.PermissionError):
		frappe.get_list("Customer")


def test_doctype_rows_answer_exists():
	assert frappe.db.exists("DocType", "User")
	assert not frappe.db.exists("DocType", "Insurance Policy")


# documents


def test_child_tables_save_and_reload(erpnext):
	customer = make_customer("Child Co")
	order = draft_order(customer.name, items=(("CHILD-ITEM-A", 2, 5), ("CHILD-ITEM-B", 1, 3)))
	assert [row.idx for row in order.items] == [1, 2]
	order.items = [row for row in order.items if row.item_code == "CHILD-ITEM-B"]
	order.save(ignore_permissions=True)
	reloaded = frappe.get_doc("Sales Order", order.name)
	assert [(row.item_code, row.parent, row.parenttype) for row in reloaded.items] == [
		("CHILD-ITEM-B", order.name, "Sales Order")
	]


def test_fetch_from_copies_the_linked_value(erpnext):
	order = draft_order(make_customer("Fetch Co").name)
	assert order.customer_name == "Fetch Co"


def test_saving_a_stale_copy_raises_timestamp_mismatch():
	todo = make_todo("stale")
	stale = frappe.get_doc("ToDo", todo.name)
	todo.description = "newer"
	todo.save()
	stale.description = "older"
	with pytest.raises(frappe.TimestampMismatchError):
		stale.save()


def test_mandatory_and_link_validation():
	with pytest.raises(frappe.MandatoryError):
		frappe.get_doc({"doctype": "ToDo"}).insert()
	with pytest.raises(frappe.LinkValidationError):
		frappe.get_doc({"doctype": "ToDo", "description": "x", "allocated_to": "ghost@myapp.test"}).insert()


def test_savepoint_rolls_back_only_its_block():
	kept = make_todo("kept")
	frappe.db.savepoint("testbed_block")
	dropped = make_todo("dropped")
	frappe.db.rollback(save_point="testbed_block")
	frappe.db.commit()
	assert frappe.db.exists("ToDo", kept.name)
	assert not frappe.db.exists("ToDo", dropped.name)


def test_delete_doc_keeps_a_copy_and_enqueues_dynamic_links_after_commit():
	todo = make_todo("to delete")
	frappe.db.commit()
	frappe.delete_doc("ToDo", todo.name)
	assert get_queue("default").count == 0, "enqueued only after commit"
	assert frappe.db.exists("Deleted Document", {"deleted_doctype": "ToDo", "deleted_name": todo.name})
	frappe.db.commit()
	assert get_queue("default").count == 1

	permanent = make_todo("gone for good")
	frappe.delete_doc("ToDo", permanent.name, delete_permanently=True)
	assert not frappe.db.exists("Deleted Document", {"deleted_name": permanent.name})


def test_password_fields_are_stored_encrypted():
	account = frappe.get_doc(
		{
			"doctype": "Email Account",
			"email_account_name": "Secret",
			"email_id": "secret@myapp.test",
			"password": "s3cret!",
		}
	)
	account.flags.ignore_validate = True
	account.insert(ignore_permissions=True)
	assert frappe.db.get_value("Email Account", account.name, "password") != "s3cret!"
	assert frappe.get_doc("Email Account", account.name).get_password("password") == "s3cret!"
	frappe.db.rollback()


def test_singles_are_typed():
	frappe.db.set_single_value("Maintenance Settings", "versions_to_keep", 9)
	assert frappe.db.get_single_value("Maintenance Settings", "versions_to_keep") == 9
	assert frappe.get_single("Maintenance Settings").versions_to_keep == 9


def test_custom_fields_add_columns_idempotently():
	field = {
		"fieldname": "custom_testbed_flag",
		"label": "Testbed Flag",
		"fieldtype": "Check",
		"insert_after": "status",
	}
	try:
		create_custom_fields({"ToDo": [field]})
		create_custom_fields({"ToDo": [field]})
		assert frappe.db.has_column("ToDo", "custom_testbed_flag")
		assert frappe.get_meta("ToDo").get_field("custom_testbed_flag").fieldtype == "Check"
		assert frappe.db.count("Custom Field", {"dt": "ToDo", "fieldname": "custom_testbed_flag"}) == 1
	finally:
		frappe.delete_doc("Custom Field", "ToDo-custom_testbed_flag", ignore_permissions=True)
		frappe.db.commit()
		frappe.clear_cache(doctype="ToDo")


def test_dates_are_dates():
	todo = make_todo("dated", date="2026-01-31")
	assert frappe.get_doc("ToDo", todo.name).date == getdate("2026-01-31")


def test_error_log_tracebacks_show_frame_variables_with_secrets_redacted():
	def failing(password, customer):
		raise ValueError("boom")

	try:
		failing("".join(["hun", "ter2"]), "ACME-42")  # the value appears in no source line
	except ValueError:
		log = frappe.log_error(title="with context")
	error = frappe.db.get_value("Error Log", log.name, "error")
	assert "ACME-42" in error, "v15 logs each frame's variables"
	assert "hunter2" not in error, "variables named like a secret are redacted"
