"""One unit of work in its own savepoint: a failure undoes that unit's writes alone, and the job goes on.

Every job that works through many records (files, rows of a CSV, invoices, pulled orders, digest
recipients, reminders) wraps each record in `isolated(...)` so that one bad record is logged and
skipped instead of rolling back, or stopping, the whole run.
"""

import frappe


def transaction_lost(e: BaseException) -> bool:
	"""A deadlock: InnoDB has rolled back the whole transaction, savepoints included, so there is
	nothing to roll back to and the caller must redo its batch. (A lock wait timeout undoes only
	the statement that waited: MariaDB's default innodb_rollback_on_timeout=OFF.)"""
	return isinstance(e, frappe.QueryDeadlockError) or (
		isinstance(e, Exception) and frappe.db.is_deadlocked(e)
	)


def lock_wait_timeout(e: BaseException) -> bool:
	return isinstance(e, frappe.QueryTimeoutError) or (isinstance(e, Exception) and frappe.db.is_timedout(e))


class isolated:
	"""`with isolated("name", title=...) as unit:` runs the block in savepoint `name`.

	On an exception the block's writes are rolled back to the savepoint, the error is logged as
	an Error Log titled `title` (when a title is given; the traceback is the block's) and not
	raised: `unit.error` holds it, `unit.failed` tells. A lost transaction (deadlock) is always
	raised; a lock wait timeout too with `raise_lock_timeouts=True`, for a caller that retries its
	whole batch on contention rather than fail the record.
	`release=False` keeps the savepoint after success (the next SAVEPOINT of the same name
	replaces it: one round trip less per row in a tight loop).

	v15's insert adds (doctype, None) to `frappe.flags.currently_saving` before the record is
	named and removes (doctype, name) after: each insert leaves an entry for the rest of the job,
	and every later save scans the list (measured: a 100,000-row import ran at a third of its
	10,000-row rate). Nothing the unit saved is still saving once it ends, so its entries go.
	"""

	def __init__(
		self,
		savepoint: str,
		title: str | None = None,
		reference_doctype: str | None = None,
		reference_name: str | None = None,
		release: bool = True,
		raise_lock_timeouts: bool = False,
	):
		self.savepoint = savepoint
		self.title = title
		self.reference_doctype = reference_doctype
		self.reference_name = reference_name
		self.release = release
		self.raise_lock_timeouts = raise_lock_timeouts
		self.error: Exception | None = None

	@property
	def failed(self) -> bool:
		return self.error is not None

	def __enter__(self):
		self.saving_before = len(frappe.flags.currently_saving)
		frappe.db.savepoint(self.savepoint)
		return self

	def __exit__(self, exc_type, exc, tb) -> bool:
		del frappe.flags.currently_saving[self.saving_before :]
		if exc is None:
			if self.release:
				frappe.db.release_savepoint(self.savepoint)
			return False
		if not isinstance(exc, Exception) or transaction_lost(exc):
			return False
		if self.raise_lock_timeouts and lock_wait_timeout(exc):
			return False
		frappe.db.rollback(save_point=self.savepoint)
		self.error = exc
		if self.title:
			frappe.log_error(
				title=self.title,
				reference_doctype=self.reference_doctype,
				reference_name=self.reference_name,
			)
		return True
