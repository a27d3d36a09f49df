# Copyright (c) 2026, MyApp Contributors and contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import cint


class CSVImportLog(Document):
	"""One CSV import (myapp.importer): its file, target, counters and failed rows."""

	def validate(self):
		if cint(self.batch_size) < 1:
			self.batch_size = 100
		if cint(self.workers) < 0:
			self.workers = 0
		if self.reference_doctype:
			meta = frappe.get_meta(self.reference_doctype)
			if meta.issingle or meta.istable:
				frappe.throw(
					_("Cannot import into {0}: it has no list of records").format(_(self.reference_doctype))
				)
		if self.is_new() or not self.settings_changed():
			return
		if self.status in ("Queued", "Running"):
			frappe.throw(
				_("The file, DocType and options cannot change while the import is queued or running")
			)
		if self.has_value_changed("import_file") or self.has_value_changed("reference_doctype"):
			# another file: a resume position or failed rows of the old one mean nothing
			self.reset_progress()

	def reset_progress(self):
		self.status = "Not Started"
		self.total_rows = self.processed_rows = self.success_count = self.error_count = 0
		self.error_message = None
		self.finished_at = None
		self.workers_used = 0
		self.order_note = None
		self.set("failed_rows", [])
		# the chunks of the old file (their resume positions) go with it
		frappe.db.delete("CSV Import Chunk", {"import_log": self.name})

	def on_trash(self):
		frappe.db.delete("CSV Import Chunk", {"import_log": self.name})

	def settings_changed(self) -> bool:
		return any(
			self.has_value_changed(field)
			for field in (
				"import_file",
				"reference_doctype",
				"update_existing",
				"batch_size",
				"workers",
				"in_file_order",
			)
		)
