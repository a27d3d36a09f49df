"""`bench --site S myapp ...`: the operator's view of background jobs (Frappe finds `commands`).

bench --site S myapp jobs                 queued / running / failed per queue (this site / bench)
bench --site S myapp failed               open Failed Job records
bench --site S myapp retry NAME           retry one record now
bench --site S myapp retry --method M     retry every open record of a method
"""

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


commands = [myapp]
