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


def delete_where(
	doctype: str, condition: str, values: dict, batch_size: int, budget: TimeBudget, walk: str = "modified"
) -> int:
	"""Delete the rows matching `condition` in committed batches of about `batch_size`.

	`condition` is the app's own SQL with `%(name)s` parameters for every value, on the indexed
	`walk` column (every Frappe table has an index on `modified`). Each batch first reads, along
	that index, where the next `batch_size` rows end, then deletes that range only: no count
	first, and no batch scans again the index entries a previous batch deleted (InnoDB keeps them
	until purge), so it stays as fast as one statement while the time budget can stop between
	the short transactions."""
	table = f"`tab{doctype}`"
	deleted, lower = 0, None
	while not budget.exhausted:
		params = {**values, "batch_size": batch_size, "lower": lower}
		after = f" and `{walk}` >= %(lower)s" if lower is not None else ""
		boundary = frappe.db.sql(
			f"select `{walk}` from {table} where {condition}{after} order by `{walk}` limit 1 offset %(batch_size)s",
			params,
		)
		if not boundary:
			frappe.db.sql(f"delete from {table} where {condition}{after}", params)
		elif boundary[0][0] == lower:
			# more than a batch share one value: they go together (`<` would take none of them)
			frappe.db.sql(f"delete from {table} where {condition} and `{walk}` = %(lower)s", params)
		else:
			frappe.db.sql(
				f"delete from {table} where {condition}{after} and `{walk}` < %(upper)s",
				{**params, "upper": boundary[0][0]},
			)
		# rows the DELETE removed (frappe.db.sql returns none for a DELETE), read before the commit
		deleted += frappe.db.sql("select row_count()")[0][0]
		frappe.db.commit()
		if not boundary:
			break
		lower = boundary[0][0]
	return deleted


def delete_selected(
	doctype: str, select_names, batch_size: int, budget: TimeBudget, child_doctypes: tuple[str, ...] = ()
) -> int:
	"""Delete the rows `select_names(limit)` returns, with their child rows, batch by batch,
	for rows that a plain condition cannot pick (a window function) or that have children."""
	deleted = 0
	while not budget.exhausted:
		names = select_names(batch_size)
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
