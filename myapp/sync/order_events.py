"""Sales Order doc events (hooks.py): the sync state of a new, copied, amended or submitted order."""

import frappe

from myapp.sync.constants import ORDER, PENDING, SYNC_STATE_FIELDS


def reset_sync_fields_on_copy(doc, method=None):
	"""before_insert: a duplicated or amended order starts with no sync state of its own.

	Desk copies even no_copy fields into an amendment; an amendment keeps the external id of the
	order it amends, so that its push updates (PUT) the same external record.
	"""
	if doc.flags.from_external_sync:
		return
	for fieldname in SYNC_STATE_FIELDS:
		doc.set(fieldname, None)
	if doc.amended_from:
		original = frappe.db.get_value(
			ORDER, doc.amended_from, ["custom_external_id", "custom_external_status"], as_dict=True
		)
		doc.custom_external_id = original.custom_external_id if original else None
		doc.custom_external_status = original.custom_external_status if original else None
	else:
		doc.custom_external_id = None
		doc.custom_external_status = None


def mark_pending_on_submit(doc, method=None):
	"""before_submit: a submitted order (an amendment too) waits for the next push."""
	doc.custom_sync_status = PENDING
	doc.custom_sync_attempts = 0
	doc.custom_sync_error = None
	doc.custom_next_sync_at = None
