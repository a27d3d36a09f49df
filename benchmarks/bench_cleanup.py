"""Example 1's cleanup on 100,000 old Error Logs: the app's batched set-based delete beside the seed's
`get_all` + `frappe.delete_doc` per row, which also enqueues one `delete_dynamic_links` job per row
(measured on a sample, including the time a worker takes to drain those jobs), and beside Frappe's
own `ErrorLog.clear_old_logs` (one DELETE on the indexed `modified`).

Run: .venv/bin/python benchmarks/bench_cleanup.py [rows] [seed sample]  (or `make bench` for all)
"""

import datetime
import sys
import time

from common import Table, bench_site, measure, support  # first: it puts the testbed's frappe on sys.path

# isort: split
import frappe
from frappe.utils import add_days, now_datetime
from frappe.utils.background_jobs import get_queue

from myapp.maintenance import delete_older_than
from myapp.utils.batching import TimeBudget


def seed_error_logs(count, age_days=40):
	when = add_days(now_datetime(), -age_days)
	frappe.db.sql("delete from `tabError Log`")
	frappe.db.bulk_insert(
		"Error Log",
		["name", "creation", "modified", "owner", "modified_by", "method", "error"],
		(
			# one second apart, as real logs are (a batch can then end anywhere in the index)
			(f"bench-{i:07d}", stamp, stamp, "Administrator", "Administrator", "bench", "Traceback ...")
			for i, stamp in ((i, when - datetime.timedelta(seconds=i)) for i in range(count))
		),
	)
	frappe.db.commit()
	wait_for_purge()


def wait_for_purge(limit=1_000, timeout=120):
	"""Let InnoDB purge what the last delete left (its history list) before the next one is
	timed: a delete timed while purge still works on the previous one's 50,000 rows ran at half
	speed now and then."""
	started = time.monotonic()
	while time.monotonic() - started < timeout:
		status = frappe.db.sql("show engine innodb status")[0][2]
		length = next(
			(int(line.split()[-1]) for line in status.splitlines() if line.startswith("History list length")),
			0,
		)
		if length < limit:
			return
		time.sleep(0.5)


def seed_style_delete(cutoff):
	names = frappe.get_all("Error Log", filters={"creation": ["<", cutoff]}, pluck="name")
	for name in names:
		frappe.delete_doc("Error Log", name, ignore_permissions=True)
	frappe.db.commit()
	return len(names)


def frappe_clear_old_logs(days=30):
	"""What Frappe's own Log Settings runs: ErrorLog.clear_old_logs, one DELETE on `modified`."""
	from frappe.model.document import get_controller

	get_controller("Error Log").clear_old_logs(days=days)
	frappe.db.commit()


def run(table=None, rows=100_000, seed_sample=2_000):
	table = table or Table()
	bench_site("bench_cleanup")
	batch_size = frappe.db.get_single_value("Maintenance Settings", "delete_batch_size")
	cutoff = add_days(now_datetime(), -30)

	seed_error_logs(seed_sample)
	support.drain_queues()
	_, seconds, peak = measure(seed_style_delete, cutoff)
	jobs = get_queue("default").count
	started = time.perf_counter()
	support.drain_queues(queues="default")
	drain_seconds = time.perf_counter() - started
	seed_rate = table.add(
		"cleanup: delete Error Logs", "seed: delete_doc per row", seed_sample, seconds, peak, "rows only"
	)
	table.add(
		"cleanup: delete Error Logs",
		"seed: + its queued jobs",
		seed_sample,
		seconds + drain_seconds,
		note=f"{jobs:,} delete_dynamic_links jobs",
	)

	seed_error_logs(rows)
	_, seconds, peak = measure(frappe_clear_old_logs, 30)
	single_rate = table.add(
		"cleanup: delete Error Logs",
		"Frappe's clear_old_logs, one statement",
		rows,
		seconds,
		peak,
		baseline_rate=seed_rate,
	)

	seed_error_logs(rows)
	deleted, seconds, peak = measure(delete_older_than, "Error Log", 30, batch_size, TimeBudget(3600))
	assert deleted == rows, deleted
	table.add(
		"cleanup: delete Error Logs",
		f"app: batches of {batch_size:,}",
		rows,
		seconds,
		peak,
		note=f"{rows / seconds / single_rate:.2f}x of clear_old_logs; {get_queue('default').count} jobs",
		baseline_rate=seed_rate,
	)
	return table


def timed_after_seeding(delete):
	"""A path of `ROUNDS`: seed `rows` old Error Logs, then time `delete()` alone."""

	def path(rows):
		seed_error_logs(rows)
		_, seconds, peak = measure(delete)
		assert not frappe.db.count("Error Log"), "rows left"
		return rows, seconds, peak

	return path


# benchmarks/rounds.py: each path in a fresh process, interleaved rounds
ROUNDS = {
	"job": "cleanup: delete Error Logs",
	"site": "bench_cleanup",
	"rows": 50_000,
	"reference": ("Frappe's clear_old_logs",),
	"paths": {
		"Frappe's clear_old_logs": timed_after_seeding(lambda: frappe_clear_old_logs(30)),
		"one DELETE statement": timed_after_seeding(
			lambda: frappe.db.delete("Error Log", {"modified": ("<", add_days(now_datetime(), -30))})
		),
		"app: delete_older_than": timed_after_seeding(
			lambda: delete_older_than(
				"Error Log",
				30,
				frappe.db.get_single_value("Maintenance Settings", "delete_batch_size"),
				TimeBudget(3600),
			)
		),
	},
}


if __name__ == "__main__":
	run(None, *map(int, sys.argv[1:3])).print()
