"""`bench --site S myapp ...`: the operator's view of background jobs (Frappe finds `commands`).

bench --site S myapp jobs                 queued / running / failed per queue (this site / bench)
bench --site S myapp failed               open Failed Job records
bench --site S myapp retry NAME           retry one record now
bench --site S myapp retry --method M     retry every open record of a method
bench --site S myapp run METHOD [--kwargs JSON] [--queue Q]
                                          run a job now through the queue and wait for it
"""

import sys

import click
from frappe.commands import get_site, pass_context


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
	from myapp.utils.watch import JobWatch, workers_serving

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


commands = [myapp]
