# Copyright (c) 2026, MyApp Contributors and contributors
# For license information, please see license.txt

from frappe.model.document import Document


class CSVImportLogFailedRow(Document):
	pass
