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


class _HashingWriter:
	"""A text sink for csv.writer that encodes, hashes and counts what it writes to `binary`."""

	def __init__(self, binary):
		self.binary = binary
		self.md5 = hashlib.md5()
		self.size = 0

	def write(self, text: str):
		data = text.encode("utf-8")
		self.binary.write(data)
		self.md5.update(data)
		self.size += len(data)


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
		self._binary = open(self.path, "xb")
		self._sink = _HashingWriter(self._binary)
		self._writer = csv.writer(self._sink, lineterminator="\r\n")
		self._sink.write(UTF8_BOM)
		return self

	def writerow(self, row):
		self._writer.writerow([neutralise(value) for value in row])
		self.rows += 1

	def save(self):
		"""Close the file and create its File document (in the current transaction)."""
		self._close()
		file = frappe.get_doc(
			{
				"doctype": "File",
				"file_name": self.file_name,
				"file_url": f"/private/files/{self.file_name}",
				"is_private": 1,
				"folder": "Home/Attachments" if self.attached_to_doctype else "Home",
				"attached_to_doctype": self.attached_to_doctype,
				"attached_to_name": self.attached_to_name,
				"file_size": self._sink.size,
				"content_hash": self._sink.md5.hexdigest(),
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
		if not self._binary.closed:
			self._binary.close()

	def _remove(self):
		if os.path.exists(self.path):
			os.remove(self.path)
