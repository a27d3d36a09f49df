# Copyright (c) 2026, MyApp Contributors and contributors
# For license information, please see license.txt

from frappe.model.document import Document


class ExpiryNotificationLog(Document):
	# Written only by myapp.expiry; the unique index (reference_doctype, reference_name,
	# days_before) is added by myapp.install, since DocType JSON cannot declare one.
	pass
