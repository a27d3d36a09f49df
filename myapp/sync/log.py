"""Sync Log: one row per push or pull run that did something."""

import frappe
from frappe.utils import now_datetime

from myapp.sync.constants import LOG


def write_sync_log(sync_type: str, status: str, started_at, **values):
	frappe.get_doc(
		{
			"doctype": LOG,
			"sync_type": sync_type,
			"status": status,
			"started_at": started_at,
			"finished_at": now_datetime(),
			**values,
		}
	).insert(ignore_permissions=True)
