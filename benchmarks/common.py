"""Shared by every benchmark: the testbed site (tests/support.py), timing, memory and the table."""

import os
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
os.environ.setdefault("MYAPP_TEST_REDIS_DB", "8")

import support  # noqa: E402  (puts the testbed's frappe on sys.path)

# isort: split
import frappe  # noqa: E402


def bench_site(prefix="bench"):
	"""A fresh site of its own (database `_<prefix>_localhost`), connected as Administrator."""
	return support.install_test_site(prefix)


def measure(fn, *args, **kwargs):
	"""(result, seconds, peak Python memory in MB) of one call."""
	tracemalloc.start()
	started = time.perf_counter()
	try:
		result = fn(*args, **kwargs)
	finally:
		seconds = time.perf_counter() - started
		_, peak = tracemalloc.get_traced_memory()
		tracemalloc.stop()
	return result, seconds, peak / 1024 / 1024


class Table:
	"""Rows of job | path | records | rows/s | peak MB | note, printed aligned; ratios vs a baseline."""

	columns = ("job", "path", "records", "rows/s", "vs seed", "peak MB", "note")

	def __init__(self):
		self.rows = []

	def add(self, job, path, records, seconds, peak_mb=None, note="", baseline_rate=None):
		rate = records / seconds if seconds else float("inf")
		ratio = f"{rate / baseline_rate:.1f}x" if baseline_rate else ""
		self.rows.append(
			(
				job,
				path,
				f"{records:,}",
				f"{rate:,.0f}",
				ratio,
				f"{peak_mb:.1f}" if peak_mb is not None else "",
				note,
			)
		)
		return rate

	def print(self):
		widths = [
			max(len(str(row[i])) for row in [self.columns, *self.rows]) for i in range(len(self.columns))
		]
		for row in [self.columns, ["-" * w for w in widths], *self.rows]:
			print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))
