# Copyright (c) 2026, MyApp Contributors and contributors
# For license information, please see license.txt

from frappe.model.document import Document


class CSVImportChunk(Document):
	"""Rows `first_row` .. `first_row + row_count - 1` (data rows, counted from 1) of a CSV Import
	Log's file: the unit that the import's jobs claim (`FOR UPDATE SKIP LOCKED`) and commit. Done is
	committed in the same transaction as the chunk's rows, failed rows and counters."""
