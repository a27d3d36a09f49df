"""`frappe.delete_doc` with v15's side effects: on_trash, a Deleted Document copy, attached files,
passwords, and one `delete_dynamic_links` job enqueued after commit per document."""

import frappe
from frappe import _


def delete_doc(
	doctype=None,
	name=None,
	force=0,
	ignore_doctypes=None,
	for_reload=False,
	ignore_permissions=False,
	flags=None,
	ignore_on_trash=False,
	ignore_missing=True,
	delete_permanently=False,
):
	names = [name] if isinstance(name, str | int) else name
	for name in names or []:
		if not frappe.db.exists(doctype, name):
			if not ignore_missing:
				raise frappe.DoesNotExistError(_("{0} {1} not found").format(_(doctype), name))
			return False

		from frappe.utils.password import delete_all_passwords_for

		delete_all_passwords_for(doctype, name)
		try:
			frappe.db.get_value(doctype, name, for_update=True, wait=False)
		except frappe.QueryTimeoutError:
			frappe.throw(
				_(
					"This document can not be deleted right now as it's being modified by another user. Please try again after some time."
				),
				exc=frappe.QueryTimeoutError,
			)
		doc = frappe.get_doc(doctype, name)
		if not for_reload:
			if flags:
				doc.flags.update(flags)
			if ignore_permissions:
				doc.flags.ignore_permissions = True
			check_permission_and_not_submitted(doc)
			if not ignore_on_trash:
				doc.run_method("on_trash")
				doc.flags.in_delete = True
				doc.run_method("on_change")

		delete_from_table(doctype, name, doc)
		doc.run_method("after_delete")
		remove_all_attachments(doctype, name, delete_permanently)

		if not for_reload:
			frappe.enqueue(
				"frappe.model.delete_doc.delete_dynamic_links",
				doctype=doc.doctype,
				name=doc.name,
				now=frappe.flags.in_test,
				enqueue_after_commit=True,
			)
		if not (delete_permanently or for_reload):
			add_to_deleted_document(doc)


def check_permission_and_not_submitted(doc):
	if (
		not doc.flags.ignore_permissions
		and frappe.session.user != "Administrator"
		and not doc.has_permission("delete")
	):
		frappe.flags.error_message = _("Insufficient Permission for {0}").format(_(doc.doctype))
		raise frappe.PermissionError(_("No permission to delete {0} {1}").format(_(doc.doctype), doc.name))
	if doc.docstatus == 1:
		frappe.throw(
			_("{0} {1}: Submitted Record cannot be deleted. You must {2} Cancel {3} it first.").format(
				_(doc.doctype), doc.name, "<strong>", "</strong>"
			),
			frappe.ValidationError,
		)


def delete_from_table(doctype, name, doc):
	for df in frappe.get_meta(doctype).get_table_fields():
		frappe.db.sql(f"delete from `tab{df.options}` where parent=%s and parenttype=%s", (name, doctype))
	if frappe.get_meta(doctype).issingle:
		frappe.db.sql("delete from `tabSingles` where doctype=%s", doctype)
	else:
		frappe.db.sql(f"delete from `tab{doctype}` where name=%s", name)


def remove_all_attachments(doctype, name, delete_permanently):
	if doctype == "File" or not frappe.db.table_exists("File"):
		return
	for file_name in frappe.get_all(
		"File", filters={"attached_to_doctype": doctype, "attached_to_name": name}, pluck="name"
	):
		delete_doc("File", file_name, ignore_permissions=True, delete_permanently=delete_permanently)


def add_to_deleted_document(doc):
	if doc.doctype != "Deleted Document" and frappe.flags.in_install != "frappe":
		frappe.get_doc(
			dict(
				doctype="Deleted Document",
				deleted_doctype=doc.doctype,
				deleted_name=doc.name,
				data=doc.as_json(),
				owner=frappe.session.user,
			)
		).db_insert()


def delete_dynamic_links(doctype, name):
	"""Unlink the rows that point at a deleted document through Dynamic Links (ToDo, Comment)."""
	for link_doctype, type_field, name_field in (
		("ToDo", "reference_type", "reference_name"),
		("Comment", "reference_doctype", "reference_name"),
	):
		if frappe.db.table_exists(link_doctype):
			frappe.db.sql(
				f"update `tab{link_doctype}` set `{type_field}`=null, `{name_field}`=null where `{type_field}`=%s and `{name_field}`=%s",
				(doctype, name),
			)
