"""Desk boot info (hooks.py `boot_session`)."""

from myapp.importer import BLOCKED_DOCTYPES


def boot_session(bootinfo):
	"""The DocTypes the CSV import refuses to everyone (core DocTypes, as v15's Data Import): the
	CSV Import Log's picker leaves them out of `frappe.boot.user.can_import`, which offers a
	System Manager every DocType that allows import (Custom Field, Client Script among them)."""
	bootinfo.myapp_import_refused_doctypes = sorted(BLOCKED_DOCTYPES)
