# Copyright (c) 2026, MyApp Contributors and contributors
# For license information, please see license.txt

from frappe.model.document import Document


class SyncLog(Document):
	"""One push or pull run: what it attempted, what happened, where the pull cursor moved."""
