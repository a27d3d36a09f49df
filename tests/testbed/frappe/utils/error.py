"""`frappe.log_error`, as in Frappe v15: writes an Error Log (a MyISAM table, so a later
rollback does not undo it)."""

import frappe


def log_error(title=None, message=None, reference_doctype=None, reference_name=None, *, defer_insert=False):
	"""Log error to Error Log"""
	# v15's argument rule: title comes first; only when a message is given AND the title has a
	# newline (a traceback passed first) are they swapped back. log_error("msg", "Title") with
	# a one-line "msg" therefore stores title="msg", error="Title".
	traceback = None
	if message:
		if "\n" in title:
			traceback, title = title, message
		else:
			traceback = message

	title = title or "Error"
	traceback = frappe.as_unicode(traceback or frappe.get_traceback(with_context=True))

	if not getattr(frappe.local, "db", None):
		print(f"Failed to log error in db: {title}")
		return

	error_log = frappe.get_doc(
		doctype="Error Log",
		error=traceback,
		method=title,
		reference_doctype=reference_doctype,
		reference_name=reference_name,
		trace_id=None,  # no request tracing in the testbed
	)

	# deviation: v15 defers (read_only / defer_insert) through a Redis list that a scheduled
	# job flushes later; the testbed inserts at once
	return error_log.insert(ignore_permissions=True)
