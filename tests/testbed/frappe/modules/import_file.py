"""`import_file_by_path` as in Frappe v15 (frappe/modules/import_file.py), for the records an app
ships as JSON (Workspace, Number Card): imported when new or when the file's `modified` is newer
than the stored one; the old record (children included) is deleted and the file's inserted with
links, validation, permissions and mandatory checks off; `modified` is then set to the file's.
Not covered: DocType JSON (the testbed reads DocType meta from the files directly), code fields."""

import json
import os

import frappe
from frappe.utils import get_datetime


def read_doc_from_file(path):
	if not os.path.exists(path):
		raise OSError(f"{path} missing")
	with open(path) as f:
		return json.loads(f.read())


def import_file_by_path(
	path: str,
	force: bool = False,
	data_import: bool = False,
	pre_process=None,
	ignore_version: bool | None = None,
	reset_permissions: bool = False,
):
	try:
		docs = read_doc_from_file(path)
	except OSError:
		print(f"{path} missing")
		return
	if not docs:
		return True
	if not isinstance(docs, list):
		docs = [docs]
	for doc in docs:
		db_modified = frappe.db.get_value(doc["doctype"], doc["name"], "modified")
		if not force and db_modified and get_datetime(doc.get("modified")) <= get_datetime(db_modified):
			continue
		import_doc(doc, data_import=data_import, pre_process=pre_process, ignore_version=ignore_version)
		if doc.get("modified"):
			frappe.db.sql(
				f"update `tab{doc['doctype']}` set modified=%s where name=%s", (doc["modified"], doc["name"])
			)
	return True


def import_doc(docdict, data_import=False, pre_process=None, ignore_version=None):
	frappe.flags.in_import = True
	docdict = dict(docdict, __islocal=1)
	doc = frappe.get_doc(docdict)
	doc.run_method("before_import")
	doc.flags.ignore_version = ignore_version
	if pre_process:
		pre_process(doc)
	if frappe.db.exists(doc.doctype, doc.name):
		frappe.delete_doc(doc.doctype, doc.name, force=1, for_reload=True)
	doc.flags.ignore_links = True
	if not data_import:
		doc.flags.ignore_validate = True
		doc.flags.ignore_permissions = True
		doc.flags.ignore_mandatory = True
	doc.insert()
	frappe.flags.in_import = False
	return doc
