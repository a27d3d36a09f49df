"""`bench --site S myapp ...`: the operator's view of background jobs (Frappe finds `commands`).

bench --site S myapp jobs                 queued / running / failed per queue (this site / bench)
bench --site S myapp failed               open Failed Job records
bench --site S myapp retry NAME           retry one record now
bench --site S myapp retry --method M     retry every open record of a method
bench --site S myapp run METHOD [--kwargs JSON] [--queue Q]
                                          run a job now through the queue and wait for it
bench --site S myapp import FILE --doctype D [--update] [--workers N]
                                          import a CSV / .xlsx file, with a progress bar
"""

import sys

import click
from frappe.commands import get_site, pass_context

from myapp.utils.preload import preload_for_worker

# `bench worker` imports this module before it starts: the jobs' modules, once per worker
preload_for_worker(sys.argv)


@click.group("myapp")
def myapp():
	"""Background jobs of myapp: queues, failed jobs, retries."""


def _connect(context):
	import frappe

	frappe.init(site=get_site(context))
	frappe.connect()


@myapp.command("jobs")
@pass_context
def jobs(context):
	"""Queued, running and failed jobs per queue: this site's, and the bench's in brackets."""
	import frappe

	from myapp.job_center import queue_counts

	_connect(context)
	try:
		click.echo(format_queue_counts(queue_counts()))
		open_records = frappe.db.count("Failed Job", {"status": "Open"})
		click.echo(f"\nOpen Failed Jobs: {open_records}")
	finally:
		frappe.destroy()


def format_queue_counts(rows: list[dict]) -> str:
	lines = [f"{'queue':<12} {'queued':>14} {'running':>14} {'failed':>14}"]
	for row in rows:
		cells = [f"{row[key]} ({row[key + '_all']})" for key in ("queued", "running", "failed")]
		lines.append(f"{row['queue']:<12} " + " ".join(f"{cell:>14}" for cell in cells))
	return "\n".join(lines)


@myapp.command("failed")
@click.option("--method", help="Only this method's records")
@click.option("--limit", default=50, show_default=True, help="At most this many records")
@pass_context
def failed(context, method=None, limit=50):
	"""Open Failed Job records (Open, Retrying, Retried), newest failure first."""
	import frappe

	from myapp.job_center import open_failed_jobs

	_connect(context)
	try:
		rows = open_failed_jobs(method, limit)
		if not rows:
			click.echo("No open failed jobs.")
		for row in rows:
			retry = f" next retry {row.next_retry_at}" if row.next_retry_at else ""
			click.echo(
				f"{row.name}  {row.status:<8} x{row.attempts:<3} {row.method}  "
				f"{row.exception_type or '-'}  last {row.last_failed_at}{retry}"
			)
	finally:
		frappe.destroy()


@myapp.command("retry")
@click.argument("name", required=False)
@click.option("--method", help="Retry every open record of this method")
@pass_context
def retry(context, name=None, method=None):
	"""Retry one Failed Job by NAME, or every open one of --method, as Administrator."""
	import frappe

	from myapp.job_center import open_failed_jobs, retry_failed_job

	if bool(name) == bool(method):
		raise click.UsageError("Give either a Failed Job NAME or --method")
	_connect(context)
	try:
		names = [name] if name else [row.name for row in open_failed_jobs(method, limit=1000)]
		refused = 0
		for record in names:
			try:
				result = retry_failed_job(record)
				frappe.db.commit()
				click.echo(f"{record}: {result['status']} {result.get('job_id') or ''}".rstrip())
			except (frappe.ValidationError, frappe.DoesNotExistError) as e:
				frappe.db.rollback()
				refused += 1
				click.secho(f"{record}: not retried: {e}", fg="yellow")
		if not names:
			click.echo("No open failed jobs of that method.")
		if refused:
			raise click.exceptions.Exit(1)
	finally:
		frappe.destroy()


@myapp.command("run")
@click.argument("method")
@click.option("--kwargs", "kwargs_json", default="{}", help="Keyword arguments, a JSON object")
@click.option(
	"--queue", type=click.Choice(["short", "default", "long"]), default="default", show_default=True
)
@click.option("--job-timeout", type=int, help="Seconds the worker lets the job run (the queue's default)")
@click.option("--wait", type=int, help="Stop waiting after this many seconds (the job goes on)")
@pass_context
def run(context, method, kwargs_json="{}", queue="default", job_timeout=None, wait=None):
	"""Run METHOD now through QUEUE as Administrator, as the scheduler would, and wait for it:
	a progress bar while the job publishes progress, then its result, or its error and Failed Job.
	Exit status 1 when the job fails, 2 when --wait ran out first."""
	import frappe

	from myapp.job_center import failed_job_of
	from myapp.utils.jobs import workers_serving
	from myapp.utils.watch import JobWatch

	kwargs = _parse_kwargs(kwargs_json)
	_connect(context)
	try:
		try:
			frappe.get_attr(method)
		except (AttributeError, ImportError) as e:
			raise click.UsageError(f"Cannot find {method}: {e}") from e
		watch = JobWatch()
		job = frappe.enqueue(method, queue=queue, timeout=job_timeout, **kwargs)
		frappe.db.commit()
		click.echo(f"Enqueued {method} on {queue} as job {job.id}")
		bar = _ProgressView()
		outcome = watch.follow(
			job,
			on_progress=bar.show,
			on_idle=lambda job: click.secho(
				f"Still queued: {workers_serving(queue)} worker(s) serve the {queue} queue "
				"(start them with `bench worker` or `bench start`).",
				fg="yellow",
			),
			timeout=wait,
		)
		bar.close()
		if outcome.status == "finished":
			click.secho(f"Finished. Result: {outcome.result!r}", fg="green")
			return
		if outcome.status == "waiting":
			click.secho(f"Still running after {wait} s; the job goes on: {job.id}", fg="yellow")
			raise click.exceptions.Exit(2)
		frappe.db.rollback()  # a fresh snapshot: the worker recorded the failure
		record = failed_job_of(job.id)
		last_line = (outcome.error.strip().splitlines() or [outcome.status])[-1]
		click.secho(f"Job {outcome.status}: {last_line}", fg="red")
		if record:
			click.echo(f"Failed Job: {record} (bench --site {frappe.local.site} myapp retry {record})")
		raise click.exceptions.Exit(1)
	finally:
		frappe.destroy()


@myapp.command("import")
@click.argument("file_path", type=click.Path(exists=True, dir_okay=False, resolve_path=True))
@click.option("--doctype", required=True, help="Import into this DocType")
@click.option(
	"--update", is_flag=True, help="Update Existing Records: a row whose name / id exists updates it"
)
@click.option(
	"--workers",
	type=click.IntRange(min=1),
	help="Workers importing the file at once [default: as many as serve the long queue]",
)
@click.option("--in-file-order", is_flag=True, help="Rows depend on earlier rows: one worker, in file order")
@click.option(
	"--batch-size", type=click.IntRange(min=1), help="Rows per chunk (committed together) [default: 100]"
)
@click.option("--no-wait", is_flag=True, help="Queue the import and return at once")
@pass_context
def import_file(
	context,
	file_path,
	doctype,
	update=False,
	workers=None,
	in_file_order=False,
	batch_size=None,
	no_wait=False,
):
	"""Import a CSV or Excel (.xlsx) FILE into a DocType, as Administrator, on the background workers.

	Creates the same CSV Import Log as Desk (the file attached as a private File), queues it and
	waits, showing its progress; exits 0 when every row was imported, 2 when some rows failed (they
	are listed on the log) and 1 when the import could not run."""
	import frappe
	from frappe.utils import get_url_to_form

	from myapp.importer import LOG_DOCTYPE, create_import_log_from_path, message_text, start_import

	_connect(context)
	try:
		try:
			log = create_import_log_from_path(file_path, doctype, update, batch_size, workers, in_file_order)
			start_import(log.name)
			frappe.db.commit()  # the job is queued when the request commits, as in Desk
		except (frappe.ValidationError, frappe.PermissionError, frappe.DoesNotExistError) as e:
			frappe.db.rollback()
			click.secho(f"Not imported: {message_text(str(e))}", fg="red")
			raise click.exceptions.Exit(1)
		click.echo(f"CSV Import Log {log.name}: {get_url_to_form(LOG_DOCTYPE, log.name)}")
		if no_wait:
			click.echo("Queued. Follow it on the CSV Import Log.")
			return
		final = wait_for_import(log.name)
		raise click.exceptions.Exit(report_import(final))
	finally:
		frappe.destroy()


def _parse_kwargs(kwargs_json: str) -> dict:
	import json

	try:
		kwargs = json.loads(kwargs_json or "{}")
	except ValueError as e:
		raise click.BadParameter(f"not JSON: {e}", param_hint="--kwargs") from e
	if not isinstance(kwargs, dict):
		raise click.BadParameter("must be a JSON object", param_hint="--kwargs")
	return kwargs


class _ProgressView:
	"""A progress bar per title on a terminal; elsewhere (a pipe, a log) a line per change."""

	def __init__(self):
		self.interactive = sys.stdout.isatty()
		self.bar = None
		self.title = None
		self.done = 0

	def show(self, progress):
		percent = int(max(0, min(100, progress.percent)))
		if not self.interactive:
			click.echo(f"{percent:>3}%  {progress.title}  {progress.description}".rstrip())
			return
		if progress.title != self.title:
			self.close()
			self.title, self.done = progress.title, 0
			self.bar = click.progressbar(length=100, label=progress.title or "progress")
			self.bar.__enter__()
		if percent > self.done:
			self.bar.update(percent - self.done)
			self.done = percent

	def close(self):
		if self.bar:
			self.bar.__exit__(None, None, None)
			self.bar = None


FINAL_IMPORT_STATUSES = ("Success", "Completed with Errors", "Error")
ACTIVE_RQ_STATUSES = ("queued", "started", "deferred", "scheduled")


def wait_for_import(log_name: str, poll_seconds: float = 0.5):
	"""Poll the log's counters under a progress bar until its final status; stop waiting (status
	left as it is) when its job is gone without one, e.g. a killed worker."""
	import time

	import frappe
	from frappe.utils.background_jobs import get_job

	from myapp.importer import LOG_DOCTYPE

	fields = ["status", "total_rows", "processed_rows", "job_id", "reference_doctype"]
	bar, shown, gone = None, 0, 0
	try:
		while True:
			frappe.db.rollback()  # a fresh snapshot of what the jobs committed
			log = frappe.db.get_value(LOG_DOCTYPE, log_name, fields, as_dict=True)
			if log.total_rows and bar is None:
				label = f"Importing into {log.reference_doctype}"
				bar = click.progressbar(length=log.total_rows, label=label, show_pos=True)
				bar.__enter__()
			if bar is not None and log.processed_rows > shown:
				bar.update(log.processed_rows - shown)
				shown = log.processed_rows
			if log.status in FINAL_IMPORT_STATUSES:
				break
			job = get_job(log.job_id) if log.job_id else None
			gone = 0 if job and job.get_status() in ACTIVE_RQ_STATUSES else gone + 1
			if gone > 3:
				break
			time.sleep(poll_seconds)
	finally:
		if bar is not None:
			bar.__exit__(None, None, None)
	return frappe.get_doc(LOG_DOCTYPE, log_name)


def report_import(log) -> int:
	"""Print the outcome; the exit code: 0 all imported, 2 some rows failed, 1 not finished."""
	from frappe.utils import get_url_to_form

	from myapp.importer import LOG_DOCTYPE

	url = get_url_to_form(LOG_DOCTYPE, log.name)
	click.echo(
		f"{log.status}: {log.total_rows} rows, {log.success_count} imported, {log.error_count} failed"
		f" ({log.workers_used or 1} worker{'s' if (log.workers_used or 1) > 1 else ''})"
	)
	if log.status == "Error":
		click.secho(f"Error: {log.error_message}", fg="red")
	if log.status not in FINAL_IMPORT_STATUSES:
		click.secho(
			f"The import's job ended without finishing ({log.processed_rows} rows done): "
			f"Resume Import on {url} continues it.",
			fg="yellow",
		)
		return 1
	if log.error_count:
		lines = sorted(row.row_number for row in log.failed_rows)
		shown = ", ".join(str(line) for line in lines[:20]) + (" ..." if len(lines) > 20 else "")
		click.secho(
			f"Failed rows (lines {shown}) are listed on CSV Import Log {log.name}: {url}", fg="yellow"
		)
		click.echo("Download Failed Rows there gives them as a CSV with an Error column.")
		return 2
	return 0 if log.status == "Success" else 1


commands = [myapp]
