"""Workflow 1: the daily cleanup deletes old, private, unattached files (rows and disk), nothing else."""

import os

import frappe
from conftest import days_ago
from support import own_connection

from myapp.tasks import daily_cleanup


def make_file(name, age_days, is_private=1, attached_to=None):
	doc = frappe.get_doc(
		{
			"doctype": "File",
			"file_name": f"{name}.txt",
			"content": f"content of {name}",
			"is_private": is_private,
			"attached_to_doctype": attached_to[0] if attached_to else None,
			"attached_to_name": attached_to[1] if attached_to else None,
		}
	).insert(ignore_permissions=True)
	when = days_ago(age_days)
	frappe.db.sql("update `tabFile` set creation=%s, modified=%s where name=%s", (when, when, doc.name))
	return doc


def disk_path(file_doc):
	return file_doc.get_full_path()


def exists(name):
	return bool(frappe.db.exists("File", name))


def test_deletes_only_old_private_unattached_files_and_their_disk_copies():
	todo = frappe.get_doc({"doctype": "ToDo", "description": "holder"}).insert(ignore_permissions=True)
	old_unattached = make_file("old-unattached", 8)
	old_empty_string = make_file("old-empty-string", 8)
	frappe.db.sql("update `tabFile` set attached_to_doctype='' where name=%s", old_empty_string.name)
	recent_unattached = make_file("recent-unattached", 6)
	old_attached = make_file("old-attached", 8, attached_to=("ToDo", todo.name))
	old_public = make_file("old-public", 8, is_private=0)
	frappe.db.commit()
	old_path = disk_path(old_unattached)
	assert os.path.exists(old_path)

	result = daily_cleanup()

	assert result == {"deleted": 2, "failed": 0}
	assert not exists(old_unattached.name) and not exists(old_empty_string.name)
	assert not os.path.exists(old_path), "File's on_trash removes the file from disk"
	for kept in (recent_unattached, old_attached, old_public):
		assert exists(kept.name)
		assert os.path.exists(disk_path(kept))
	assert frappe.db.exists("File", "Home"), "folders are never deleted"
	# deleted for good: no Deleted Document copy of a file already gone from disk
	assert frappe.get_all("Deleted Document", filters={"deleted_doctype": "File"}) == []


def test_folders_are_never_candidates():
	folder = frappe.get_doc({"doctype": "File", "file_name": "Old Folder", "is_folder": 1, "folder": "Home"})
	folder.insert(ignore_permissions=True)
	frappe.db.sql("update `tabFile` set creation=%s, is_private=1 where name=%s", (days_ago(30), folder.name))
	frappe.db.commit()
	try:
		assert daily_cleanup()["deleted"] == 0
		assert exists(folder.name)
	finally:
		frappe.db.delete("File", {"name": folder.name})  # the per-test cleanup keeps folders
		frappe.db.commit()


def test_a_file_that_cannot_be_deleted_is_logged_and_skipped():
	locked = make_file("locked", 10)
	others = [make_file(f"other-{i}", 9) for i in range(3)]
	frappe.db.commit()

	# Another session holds the row (someone editing it): delete_doc's NOWAIT lock fails for real.
	other_session = own_connection()
	try:
		with other_session.cursor() as cursor:
			cursor.execute("select name from `tabFile` where name=%s for update", locked.name)
			result = daily_cleanup()
	finally:
		other_session.rollback()
		other_session.close()

	assert result == {"deleted": 3, "failed": 1}
	assert exists(locked.name) and os.path.exists(disk_path(locked))
	assert not any(exists(f.name) for f in others)
	logged = frappe.get_all(
		"Error Log", filters={"reference_doctype": "File", "reference_name": locked.name}, fields=["method"]
	)
	assert len(logged) == 1 and locked.name in logged[0].method


def test_at_most_max_files_per_run_are_deleted_and_the_rest_wait():
	frappe.db.set_single_value("Maintenance Settings", "max_files_per_run", 3)
	files = [make_file(f"f{i}", 8 + i) for i in range(5)]
	frappe.db.commit()

	assert daily_cleanup()["deleted"] == 3
	remaining = [f.name for f in files if exists(f.name)]
	assert len(remaining) == 2
	assert {f.name for f in files[:2]} == set(remaining), "oldest first"

	assert daily_cleanup()["deleted"] == 2
	assert not any(exists(f.name) for f in files)
