"""CSV files for users: written row by row to a private File, safe to open in a spreadsheet.

Every export and report streams its rows through `PrivateCSVFile`, so memory stays flat however
many rows there are. `File.insert()` cannot take such a file: for a file on disk it reads the
whole content into memory (twice) to hash it and writes a second copy under a new name. The
File row is therefore written with `db_insert()` once the content is on disk, with the same
`content_hash` (md5) and `file_size` that File's controller would have set, so deleting the
File document still removes the file from disk.
"""

import csv
import datetime
import decimal
import hashlib
import os

import frappe
from frappe.utils import get_files_path, now_datetime

# Excel reads a UTF-8 file as UTF-8 only when it starts with a byte order mark.
UTF8_BOM = "\ufeff"
# A cell starting with one of these is run as a formula by Excel, LibreOffice and Google Sheets.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_TRIGGER_SET = frozenset(FORMULA_TRIGGERS)


def neutralise(value):
	"""A cell value that a spreadsheet shows as text: formulas get a leading apostrophe (OWASP)."""
	if value is None:
		return ""
	if isinstance(value, str):
		return "'" + value if value.startswith(FORMULA_TRIGGERS) else value
	if isinstance(value, datetime.datetime | datetime.date | datetime.time | datetime.timedelta):
		return str(value)
	if isinstance(value, bool | int | float | decimal.Decimal):
		# numbers are never formulas, and "-5" must stay a number
		return value
	return neutralise(str(value))


class PrivateCSVFile:
	"""`with PrivateCSVFile("customers.csv") as out: out.writerow([...])`, then `out.save()`.

	Rows go to disk as they come (UTF-8 with BOM, formula cells neutralised). `save()` creates
	the private File document owned by the current user and returns it. Leaving the block
	without `save()` (or a rollback after it) deletes the file from disk.
	"""

	def __init__(self, file_name: str, attached_to_doctype=None, attached_to_name=None):
		base, extension = os.path.splitext(file_name)
		self.file_name = f"{frappe.scrub(base)}-{frappe.generate_hash(length=8)}{extension or '.csv'}"
		self.path = get_files_path(self.file_name, is_private=1)
		self.attached_to_doctype = attached_to_doctype
		self.attached_to_name = attached_to_name
		self.rows = 0
		self.saved = False

	def __enter__(self):
		os.makedirs(os.path.dirname(self.path), exist_ok=True)
		self._stream = open(self.path, "x", encoding="utf-8", newline="", buffering=1024 * 1024)
		self._writer = csv.writer(self._stream, lineterminator="\r\n")
		self._stream.write(UTF8_BOM)
		return self

	def writerow(self, row):
		self._writer.writerow(_safe_row(row))
		self.rows += 1

	def writerows(self, rows, safe: bool = False):
		"""Write every row of an iterable (the csv module's loop: faster than writerow per row).
		`safe`: the rows' formulas are already neutralised (by the query), so no cell is looked at."""
		self._writer.writerows(self._counted(rows if safe else (_safe_row(row) for row in rows)))

	def _counted(self, rows):
		for row in rows:
			self.rows += 1
			yield row

	def save(self):
		"""Close the file and create its File document (in the current transaction)."""
		self._close()
		size, content_hash = _size_and_md5(self.path)
		file = frappe.get_doc(
			{
				"doctype": "File",
				"file_name": self.file_name,
				"file_url": f"/private/files/{self.file_name}",
				"is_private": 1,
				"folder": "Home/Attachments" if self.attached_to_doctype else "Home",
				"attached_to_doctype": self.attached_to_doctype,
				"attached_to_name": self.attached_to_name,
				"file_size": size,
				"content_hash": content_hash,
				"file_type": "CSV",
			}
		)
		file.owner = file.modified_by = frappe.session.user
		file.creation = file.modified = now_datetime()
		file.name = frappe.generate_hash(length=10)
		file.db_insert()
		self.saved = True
		frappe.db.after_rollback.add(self._remove)
		return file

	def __exit__(self, exc_type, exc, tb):
		self._close()
		if not self.saved:
			self._remove()

	def _close(self):
		if not self._stream.closed:
			self._stream.close()

	def _remove(self):
		if os.path.exists(self.path):
			os.remove(self.path)


def _safe_row(row) -> list:
	# the common case (a str not starting with a trigger) inline: this runs once per cell
	return [
		(("'" + value) if value[:1] in _TRIGGER_SET else value) if type(value) is str else neutralise(value)
		for value in row
	]


def _size_and_md5(path: str) -> tuple[int, str]:
	"""What File's controller stores as file_size and content_hash, read back in chunks."""
	md5 = hashlib.md5()
	with open(path, "rb") as f:
		while chunk := f.read(1024 * 1024):
			md5.update(chunk)
	return os.path.getsize(path), md5.hexdigest()
