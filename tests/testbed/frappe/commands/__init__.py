"""`frappe.commands`: what an app's `commands.py` imports from it (v15: `pass_context`, `get_site`).

The bench CLI calls an app's click commands with `ctx.obj = {"sites": [...], "force": ...,
"profile": ...}`; `pass_context` hands the command that dict as a `frappe._dict` and turns a
missing or unknown site into a message and exit code 1. Tests invoke the commands through
`click.testing.CliRunner` with the same `obj`. (v15 can also profile a command; not needed here.)
"""

import sys
from functools import wraps

import click

import frappe


def pass_context(command):
	@wraps(command)
	def run(ctx, *args, **kwargs):
		try:
			return command(frappe._dict(ctx.obj), *args, **kwargs)
		except frappe.exceptions.SiteNotSpecifiedError as e:
			click.secho(str(e), fg="yellow")
			sys.exit(1)
		except frappe.exceptions.IncorrectSitePath:
			click.secho(f"Site {(ctx.obj.get('sites') or [''])[0]} does not exist!", fg="yellow")
			sys.exit(1)

	return click.pass_context(run)


def get_site(context, raise_err=True):
	"""The first site the command was given; SiteNotSpecifiedError (or None) without one."""
	sites = context.get("sites") or []
	if sites:
		return sites[0]
	if raise_err:
		raise frappe.SiteNotSpecifiedError
	return None
