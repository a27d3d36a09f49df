# Testbed: helpers of Frappe v15's frappe/core/doctype/file/utils.py used by the File controller.

import hashlib
import os
from base64 import b64decode

import frappe
from frappe import _
from frappe.utils import cstr, encode, get_files_path


def make_home_folder() -> None:
	"""Create the "Home" and "Home/Attachments" folders (Frappe does this on install)."""
	home = frappe.get_doc(
		{"doctype": "File", "is_folder": 1, "is_home_folder": 1, "file_name": _("Home")}
	).insert(ignore_if_duplicate=True)

	frappe.get_doc(
		{
			"doctype": "File",
			"folder": home.name,
			"is_folder": 1,
			"is_attachments_folder": 1,
			"file_name": _("Attachments"),
		}
	).insert(ignore_if_duplicate=True)


def setup_folder_path(filename: str, new_parent: str) -> None:
	file = frappe.get_doc("File", filename)
	file.folder = new_parent
	file.save()


def delete_file(path: str) -> None:
	"""Delete a file given its file_url (/files/x or /private/files/x)"""
	if path:
		if ".." in path.split("/"):
			frappe.throw(
				_("It is risky to delete this file: {0}. Please contact your System Manager.").format(path)
			)

		parts = os.path.split(path.strip("/"))
		if parts[0] == "files":
			path = frappe.get_site_path("public", "files", parts[-1])
		else:
			path = frappe.get_site_path("private", "files", parts[-1])

		if os.path.exists(path):
			os.remove(path)


def get_content_hash(content: bytes | str) -> str:
	if isinstance(content, str):
		content = content.encode()
	return hashlib.md5(content, usedforsecurity=False).hexdigest()  # nosec


def generate_file_name(name: str, suffix: str | None = None, is_private: bool = False) -> str:
	"""Conflict-free file name: `name` if free, else name + suffix, else name + a random suffix."""

	def path_exists(name, is_private):
		return os.path.exists(encode(get_files_path(name, is_private=is_private)))

	if not path_exists(name, is_private):
		return name

	candidate_path = get_file_name(name, suffix)

	if path_exists(candidate_path, is_private):
		return generate_file_name(name, is_private=is_private)
	return candidate_path


def get_file_name(fname: str, optional_suffix: str | None = None) -> str:
	fname = cstr(fname)
	partial, extn = os.path.splitext(fname)
	suffix = optional_suffix or frappe.generate_hash(length=6)
	return f"{partial}{suffix}{extn}"


def update_existing_file_docs(doc) -> None:
	"""Point every File sharing this content at the new url / privacy"""
	frappe.db.sql(
		"""update `tabFile` set `file_url`=%s, `is_private`=%s
		where `content_hash`=%s and `name`!=%s""",
		(doc.file_url, doc.is_private, doc.content_hash, doc.name),
	)


def decode_file_content(content: bytes) -> bytes:
	if isinstance(content, str):
		content = content.encode("utf-8")
	if b"," in content:
		content = content.split(b",")[1]
	return safe_b64decode(content)


def safe_b64decode(binary: bytes) -> bytes:
	"""base64 decode that tolerates missing padding"""
	return b64decode(binary + b"===")


def is_safe_path(path: str) -> bool:
	"""True if `path` is a URL or inside the site folder (frappe.utils.file_manager.is_safe_path)"""
	if path.startswith(("http://", "https://")):
		return True

	basedir = os.path.abspath(frappe.get_site_path())
	matchpath = os.path.abspath(path)
	return basedir == os.path.commonpath((basedir, matchpath))


def get_max_file_size() -> int:
	from frappe.utils import cint

	max_file_size = None
	if frappe.db:
		max_file_size = frappe.db.get_single_value("System Settings", "max_file_size")
	return (
		cint(max_file_size) * 1024 * 1024
		or cint((frappe.conf or {}).get("max_file_size"))
		or 25 * 1024 * 1024
	)
