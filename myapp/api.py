"""Every whitelisted endpoint of myapp"""

import frappe
from frappe import _


@frappe.whitelist(methods=["POST"])
def retry_order_sync(name: str):
	"""The Sales Order "Retry Sync" button: put one Failed / Error / Retry Pending order back to Pending."""
	from myapp.sync import RETRYABLE_BY_USER, enqueue_push_now, mark_for_retry

	doc = frappe.get_doc("Sales Order", name)
	doc.check_permission("write")
	if doc.docstatus != 1 or doc.custom_sync_status not in RETRYABLE_BY_USER:
		frappe.throw(
			_("Only a submitted Sales Order whose sync is {0} can be retried").format(
				", ".join(_(status) for status in RETRYABLE_BY_USER)
			)
		)
	mark_for_retry([doc.name])
	enqueue_push_now()
	return {"message": _("Sales Order {0} will be sent to the external system shortly").format(doc.name)}


@frappe.whitelist(methods=["POST"])
def retry_failed_syncs():
	"""The Sync Settings "Retry all failed" button: every Failed or Error order back to Pending."""
	from myapp.sync import enqueue_push_now, failed_orders, mark_for_retry

	frappe.only_for("System Manager")
	count = mark_for_retry(failed_orders())
	if count:
		enqueue_push_now()
	return {"count": count, "message": _("{0} Sales Order(s) put back to Pending").format(count)}
