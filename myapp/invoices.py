"""Workflow 4: process every unprocessed draft Sales Invoice in chained batch jobs, safely in parallel.

A run is an "Invoice Processing Run" document. Each job handles one batch: it claims up to
`batch_size` invoices with `SELECT ... FOR UPDATE SKIP LOCKED` (so two batches never take the same
invoice), enqueues the next batch under a new job id as soon as it has a full claim (so an idle
worker can start it while this one works), processes each invoice in its own savepoint and commits
once. A killed worker's transaction rolls back and releases its claim, so the next batch takes those
invoices again: a run continues where the last commit left off. An invoice that fails is logged,
stamped with the run and skipped for the rest of that run (a later run tries it once more).
"""

import frappe
from frappe import _
from frappe.utils import cint, escape_html, now_datetime
from frappe.utils.background_jobs import get_jobs

from myapp.utils.batching import claim_rows
from myapp.utils.jobs import enqueue_once, job_site_callback, releases_claim_on_failure
from myapp.utils.notify import notify_user
from myapp.utils.progress import Progress, publish_doc_update
from myapp.utils.savepoint import isolated

RUN_DOCTYPE = "Invoice Processing Run"
INVOICE_DOCTYPE = "Sales Invoice"
BATCH_METHOD = "myapp.tasks.process_invoices_batch"
QUEUE = "long"
# The one-at-a-time claim for starting (or resuming) a run; each batch gets its own job id.
START_JOB_ID = "process_invoices"
DEFAULT_BATCH_SIZE = 500
# a batch rolled back by a deadlock or lock wait timeout is queued again at most this often
MAX_BATCH_ATTEMPTS = 5
MAX_BATCH_SIZE = 5000
# The run document keeps the first errors; every error has its Error Log.
MAX_LISTED_ERRORS = 20
ACTIVE_STATUSES = ("Queued", "Running")


# --- starting a run (called by myapp.api.start_invoice_processing) ---------------------------------


def valid_batch_size(value) -> int:
	"""The batch size asked for, DEFAULT_BATCH_SIZE when none was; 0, -1, 6000, "abc" or 2.5 are
	refused, not replaced by the default."""
	if value is None or value == "":
		return DEFAULT_BATCH_SIZE
	try:
		batch_size = int(value)
		valid = not isinstance(value, bool) and batch_size == float(value)
	except (TypeError, ValueError):
		valid = False
	if not valid or not 1 <= batch_size <= MAX_BATCH_SIZE:
		frappe.throw(
			_("Batch size must be a whole number between 1 and {0}, not {1}.").format(
				MAX_BATCH_SIZE, frappe.bold(escape_html(str(value)))
			),
			title=_("Invalid batch size"),
		)
	return batch_size


def start_run(batch_size=None) -> dict:
	"""Start a run over the unprocessed draft invoices, or resume the active run if its jobs are gone."""
	if not frappe.db.exists("DocType", INVOICE_DOCTYPE):
		frappe.throw(_("Sales Invoice does not exist on this site: install ERPNext first."))
	batch_size = valid_batch_size(batch_size)

	already_running = _("Invoice processing is already running.")
	run = active_run()
	if run and run_has_jobs(run.name):
		frappe.throw(already_running, title=_("Already running"))
	if run:
		resumed = True
		batch_size = run.batch_size
	else:
		resumed = False
		total = count_unprocessed(run=None)
		if not total:
			return {"run": None, "message": _("There are no unprocessed draft Sales Invoices.")}
		run = frappe.get_doc(
			{
				"doctype": RUN_DOCTYPE,
				"status": "Queued",
				"total": total,
				"batch_size": batch_size,
				"started_by": frappe.session.user,
			}
		).insert(ignore_permissions=True)

	# The claim makes two simultaneous starts exclusive; the job is enqueued when this request
	# commits, so it always finds its run document.
	enqueue_once(
		BATCH_METHOD,
		START_JOB_ID,
		queue=QUEUE,
		on_failure="myapp.invoices.on_batch_failure",
		message=already_running,
		enqueue_after_commit=True,
		run=run.name,
		batch_size=batch_size,
		batch_job_id=START_JOB_ID,
	)
	# A locking read sees other requests' committed runs, which this transaction's snapshot may not.
	if frappe.db.sql(
		f"""select name from `tab{RUN_DOCTYPE}` where status in %(statuses)s and name != %(run)s
		for update""",
		{"statuses": ACTIVE_STATUSES, "run": run.name},
	):
		frappe.throw(already_running, title=_("Already running"))

	if resumed:
		message = _("Invoice processing run {0} resumed.").format(run.name)
	else:
		message = _("Invoice processing started: {0} draft invoices in run {1}.").format(run.total, run.name)
	return {"run": run.name, "resumed": resumed, "message": message}


def active_run():
	return frappe.db.get_value(
		RUN_DOCTYPE,
		{"status": ("in", ACTIVE_STATUSES)},
		["name", "batch_size"],
		as_dict=True,
		order_by="creation desc",
	)


def run_has_jobs(run: str) -> bool:
	"""Whether a batch job of `run` is queued or running (a killed worker's job counts until RQ
	forgets the dead worker)."""
	return run in get_jobs(site=frappe.local.site, queue=QUEUE, key="run").get(frappe.local.site, [])


# --- the batch job ---------------------------------------------------------------------------------


def process_invoices_batch(
	run: str | None = None,
	batch_size: int = DEFAULT_BATCH_SIZE,
	batch_job_id: str | None = None,
	attempt: int = 0,
):
	"""One batch of `run`: claim, chain the next batch, process each invoice in a savepoint, commit.

	A deadlock (InnoDB undoes the whole transaction, savepoints too) or a lock wait timeout rolls
	the whole batch back and Frappe v15's execute_job does not retry those errors, so the batch is
	queued again under a new job id, up to MAX_BATCH_ATTEMPTS times, before it fails the run.

	Without a run (`bench execute myapp.tasks.process_invoices_batch`), it starts one, or resumes
	the active run whose jobs are gone, as the "Process Draft Invoices" button does."""
	if not run:
		return start_run(batch_size)
	status = frappe.db.get_value(RUN_DOCTYPE, run, "status")
	if status not in ACTIVE_STATUSES:
		return {"processed": 0, "errors": 0}
	if status == "Queued":
		frappe.db.set_value(RUN_DOCTYPE, run, {"status": "Running", "started_at": now_datetime()})
		# commit now: holding the run's row lock would make the other batches wait for this one
		frappe.db.commit()

	batch_size = valid_batch_size(batch_size)
	names = claim_invoices(run, batch_size)
	chained = len(names) == batch_size
	if chained:
		enqueue_batch(run, batch_size)

	processed, failures = 0, []
	try:
		for name in names:
			error = process_in_savepoint(name, run)
			if error is None:
				processed += 1
			else:
				failures.append((name, error))
	except (frappe.QueryDeadlockError, frappe.QueryTimeoutError):
		if attempt + 1 >= MAX_BATCH_ATTEMPTS:
			raise
		frappe.db.rollback()
		enqueue_batch(run, batch_size, attempt=attempt + 1)
		return {"processed": 0, "errors": 0, "requeued": len(names)}
	if names:
		record_batch(run, processed, failures, batch_job_id)
		frappe.db.commit()
		publish_progress(run, done_in_batch=processed + len(failures))

	if count_unprocessed(run):
		if not chained and has_claimable_invoices(run):
			# e.g. invoices released by a killed worker's rolled back batch
			enqueue_batch(run, batch_size)
	else:
		finish_run(run)
	return {"processed": processed, "errors": len(failures)}


UNPROCESSED_CONDITION = """docstatus = 0 and custom_processed = 0
	and (custom_processing_run is null or custom_processing_run != %(run)s)"""


def claim_invoices(run: str, limit: int) -> list[str]:
	"""Lock up to `limit` unprocessed drafts that no other batch holds; the locks last until commit.

	Invoices this run failed on carry its name in `custom_processing_run` and are not claimed again.
	"""
	return claim_rows(INVOICE_DOCTYPE, UNPROCESSED_CONDITION, {"run": run}, limit)


def has_claimable_invoices(run: str) -> bool:
	found = bool(claim_invoices(run, 1))
	frappe.db.commit()  # release the probe's lock
	return found


def count_unprocessed(run: str | None) -> int:
	return frappe.db.sql(
		f"select count(*) from `tab{INVOICE_DOCTYPE}` where {UNPROCESSED_CONDITION}", {"run": run or ""}
	)[0][0]


def enqueue_batch(run: str, batch_size: int, attempt: int = 0):
	# a new id for every batch: re-enqueueing a running job's id would replace that job in RQ
	job_id = f"{START_JOB_ID}::{run}::{frappe.generate_hash(length=10)}"
	frappe.enqueue(
		BATCH_METHOD,
		queue=QUEUE,
		job_id=job_id,
		on_failure="myapp.invoices.on_batch_failure",
		run=run,
		batch_size=batch_size,
		batch_job_id=job_id,
		attempt=attempt,
	)


def process_in_savepoint(name: str, run: str) -> str | None:
	"""Process one invoice; on failure undo its writes alone, log it and stamp it as failed in `run`."""
	with isolated(
		"myapp_invoice",
		title=f"Invoice processing: {name} failed in run {run}",
		reference_doctype=INVOICE_DOCTYPE,
		reference_name=name,
		raise_lock_timeouts=True,
	) as unit:
		# a deadlock or lock wait timeout is raised: process_invoices_batch redoes the whole batch
		process_single_invoice(name, run)
	if not unit.failed:
		return None
	frappe.db.set_value(INVOICE_DOCTYPE, name, "custom_processing_run", run, update_modified=False)
	return str(unit.error) or unit.error.__class__.__name__


def process_single_invoice(invoice_name: str, run: str | None = None):
	"""Process one draft Sales Invoice: the extension point of workflow 4.

	Add the per-invoice work here, before `mark_processed`. Raise to fail this invoice alone: its
	writes roll back to the savepoint, it is logged and skipped for the rest of the run. It runs in
	the batch's transaction, so database work commits with the batch; work outside the database
	(HTTP calls, files) must be idempotent, because a killed worker's batch is processed again.
	"""
	mark_processed(invoice_name, run)


def mark_processed(invoice_name: str, run: str | None):
	frappe.db.set_value(
		INVOICE_DOCTYPE,
		invoice_name,
		{"custom_processed": 1, "custom_processed_on": now_datetime(), "custom_processing_run": run},
	)


# --- the run document --------------------------------------------------------------------------------


def record_batch(run: str, processed: int, failures: list[tuple[str, str]], batch_job_id: str | None):
	"""Add the batch's counts to the run, in the batch's transaction (locks the run row until commit)."""
	current = frappe.db.sql(
		f"select first_errors, job_ids from `tab{RUN_DOCTYPE}` where name = %s for update", run, as_dict=True
	)[0]
	first_errors = [line for line in (current.first_errors or "").splitlines() if line]
	for name, error in failures[: max(0, MAX_LISTED_ERRORS - len(first_errors))]:
		first_errors.append(f"{name}: {error.splitlines()[0] if error else ''}"[:300])
	job_ids = current.job_ids or ""
	if batch_job_id:
		job_ids += f"{batch_job_id}: {processed} processed, {len(failures)} errors\n"
	frappe.db.sql(
		f"""update `tab{RUN_DOCTYPE}` set processed = processed + %(processed)s,
			errors = errors + %(errors)s, batches = batches + 1, first_errors = %(first_errors)s,
			job_ids = %(job_ids)s, modified = %(now)s
		where name = %(run)s""",
		{
			"processed": processed,
			"errors": len(failures),
			"first_errors": "\n".join(first_errors),
			"job_ids": job_ids,
			"now": now_datetime(),
			"run": run,
		},
	)


def publish_progress(run: str, done_in_batch: int):
	"""Realtime progress on the run's form every 10% (batches of several workers interleave)."""
	counts = frappe.db.get_value(RUN_DOCTYPE, run, ["total", "processed", "errors"], as_dict=True)
	done = cint(counts.processed) + cint(counts.errors)
	progress = Progress(
		max(cint(counts.total), done), _("Processing draft Sales Invoices"), doctype=RUN_DOCTYPE, docname=run
	)
	# start from what earlier batches had reached, so this batch publishes only on crossing a step
	while progress.next_at <= done - done_in_batch:
		progress.next_at += progress.step
	progress.update(done)


def finish_run(run: str):
	"""Mark the run finished, once, and tell the user who started it."""
	current = frappe.db.sql(
		f"""select status, total, processed, errors, started_by from `tab{RUN_DOCTYPE}`
		where name = %s for update""",
		run,
		as_dict=True,
	)[0]
	if current.status not in ACTIVE_STATUSES:
		frappe.db.commit()
		return
	status = "Completed with Errors" if current.errors else "Completed"
	frappe.db.set_value(
		RUN_DOCTYPE,
		run,
		{
			"status": status,
			"finished_at": now_datetime(),
			"total": max(cint(current.total), cint(current.processed) + cint(current.errors)),
		},
	)
	publish_doc_update(RUN_DOCTYPE, run)
	frappe.db.commit()
	frappe.logger("myapp.invoices").info(
		f"Invoice processing run {run}: {current.processed} processed, {current.errors} errors"
	)
	if current.errors:
		message = _(
			"Invoice processing run {0} finished: {1} invoices processed, {2} failed (see Error Log)."
		)
		notify_user(
			current.started_by,
			message.format(run, current.processed, current.errors),
			indicator="orange",
			title=_("Invoice Processing Run"),
		)
	else:
		message = _("Invoice processing run {0} finished: {1} invoices processed.")
		notify_user(
			current.started_by,
			message.format(run, current.processed),
			indicator="green",
			title=_("Invoice Processing Run"),
		)


@releases_claim_on_failure
@job_site_callback
def on_batch_failure(job, connection, type, value, traceback):
	"""RQ callback when a batch job raised (after Frappe's retries): the run stops as Failed.

	RQ also calls it for a job whose worker was killed (AbandonedJobError, once the job's timeout has
	passed): that batch rolled back and the run goes on, so the run is left as it is.
	"""
	from rq.exceptions import AbandonedJobError

	if issubclass(type, AbandonedJobError):
		return
	run = job.kwargs["kwargs"]["run"]
	current = frappe.db.get_value(RUN_DOCTYPE, run, ["status", "started_by"], as_dict=True, for_update=True)
	if not current or current.status not in ACTIVE_STATUSES:
		return
	frappe.db.set_value(
		RUN_DOCTYPE,
		run,
		{
			"status": "Failed",
			"finished_at": now_datetime(),
			"failure": f"{type.__name__}: {value}"[:1000],
		},
	)
	publish_doc_update(RUN_DOCTYPE, run)
	notify_user(
		current.started_by,
		_("Invoice processing run {0} failed: {1}. Start it again to continue.").format(run, value),
		indicator="red",
	)
