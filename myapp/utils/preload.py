"""Modules the app's jobs need, imported once by each `bench worker` process instead of by every job.

RQ forks a work horse for each job, and a horse starts with whatever its worker process had
imported; what the job imports itself dies with the horse. Measured on Frappe 15.74.2 + ERPNext
15.71.0: a Customer export in a fresh horse spent about 0.4 s importing Frappe modules (user
permissions pull in markdownify and bs4, File pulls in PIL), a third of exporting 100,000 rows.
Frappe's own `bench worker-pool` preloads its query builder before forking for the same reason;
`bench worker` loads every app's `commands` module before it starts (`frappe.utils.bench_helper`),
which is where `myapp.commands` calls `preload_for_worker`.
"""

import importlib

WORKER_COMMANDS = ("worker", "worker-pool")

MODULES = (
	# get_list (exports, reports, the job center's lists): the query, its permission conditions
	"frappe.model.db_query",
	"frappe.database.query",
	"frappe.boot",
	"frappe.core.doctype.user_permission.user_permission",
	"frappe.share",
	# the File every export, report and failed-rows download writes
	"frappe.core.doctype.file.file",
	# the app's job modules (myapp.tasks imports the entry points of every workflow)
	"myapp.tasks",
	"myapp.maintenance",
	"myapp.job_center",
	"myapp.expiry",
	"myapp.newsletter",
)


def is_worker_command(argv: list[str]) -> bool:
	"""`bench worker ...` runs `frappe.utils.bench_helper frappe [--site S] worker ...`."""
	return len(argv) > 2 and argv[1] == "frappe" and any(arg in WORKER_COMMANDS for arg in argv[2:5])


def preload_for_worker(argv: list[str]):
	if is_worker_command(argv):
		for module in MODULES:
			importlib.import_module(module)
