"""Progress: realtime progress every 10% and on the last record, shared by every long job."""

import frappe
from frappe import _

# The event on which an open form of a log document (CSV Import Log, Invoice Processing Run)
# reloads; its form script filters it by doctype and name. Sent after the commit that wrote the
# counters or the final status, so the reload shows them.
DOC_UPDATE_EVENT = "myapp_doc_update"


def publish_doc_update(doctype: str, name: str):
	"""Tell an open form of the document to reload once the current transaction commits."""
	frappe.publish_realtime(
		DOC_UPDATE_EVENT, {"doctype": doctype, "name": name}, doctype=doctype, docname=name, after_commit=True
	)


class Progress:
	"""Publishes `frappe.publish_progress` when `done` crosses the next step and at the end.

	With `doctype` and `docname` the progress bar shows on that document's form (a log
	DocType), which reloads once the counters are committed; without, it goes to the user who
	started the job. `on_publish(done)` runs at
	the same moments, e.g. to write counters to the log document.
	"""

	def __init__(
		self,
		total: int,
		title: str,
		*,
		doctype=None,
		docname=None,
		step_percent=10,
		every=None,
		on_publish=None,
	):
		self.total = max(int(total), 0)
		self.title = title
		self.doctype = doctype
		self.docname = docname
		# `every`: publish every that many records instead of every `step_percent` (e.g. per commit)
		self.step = max(1, int(every) if every else self.total * step_percent // 100)
		self.next_at = self.step
		self.on_publish = on_publish
		self.published = []

	def update(self, done: int) -> bool:
		if done < self.next_at and done < self.total:
			return False
		while self.next_at <= done:
			self.next_at += self.step
		percent = 100 if self.total == 0 else min(100, int(done * 100 / self.total))
		frappe.publish_progress(
			percent,
			title=self.title,
			doctype=self.doctype,
			docname=self.docname,
			description=_("{0} of {1}").format(done, self.total),
		)
		self.published.append(percent)
		if self.doctype and self.docname:
			publish_doc_update(self.doctype, self.docname)
		if self.on_publish:
			self.on_publish(done)
		return True
