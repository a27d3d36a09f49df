# Copyright (c) 2026, MyApp Contributors and contributors
# For license information, please see license.txt

from frappe.model.document import Document


class InvoiceProcessingRun(Document):
	"""One run of workflow 4 (myapp.invoices): counters, job ids and first errors, written by the jobs."""
