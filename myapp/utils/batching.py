"""Batching: set-based deletes in committed batches under a time budget, shared by every cleanup.

Frappe's own log cleanup (`ErrorLog.clear_old_logs`) deletes set-based; `frappe.delete_doc` per
row would write a Deleted Document and enqueue a `delete_dynamic_links` job for every row.
"""

import time

import frappe


class TimeBudget:
	"""A deadline for a run: work stops starting new batches once it has passed."""

	def __init__(self, seconds: float):
		self.deadline = time.monotonic() + seconds

	@property
	def exhausted(self) -> bool:
		return time.monotonic() >= self.deadline


def delete_in_batches(
	doctype: str,
	filters,
	batch_size: int,
	budget: TimeBudget,
	child_doctypes: tuple[str, ...] = (),
	select_names=None,
) -> int:
	"""Delete the rows matching `filters` (and their child rows) `batch_size` at a time, committing
	each batch. Returns how many rows were deleted. `select_names(limit)` may replace the filter
	query when the rows to delete need more than filters (e.g. a window function)."""
	deleted = 0
	while not budget.exhausted:
		if select_names:
			names = select_names(batch_size)
		else:
			names = frappe.get_all(doctype, filters=filters, pluck="name", limit=batch_size, order_by=None)
		if not names:
			break
		for child_doctype in child_doctypes:
			frappe.db.delete(child_doctype, {"parent": ("in", names), "parenttype": doctype})
		frappe.db.delete(doctype, {"name": ("in", names)})
		frappe.db.commit()
		deleted += len(names)
		if len(names) < batch_size:
			break
	return deleted
