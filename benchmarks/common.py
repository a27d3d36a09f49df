"""Shared by every benchmark: the testbed site (tests/support.py), timing, memory and the table."""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
os.environ.setdefault("MYAPP_TEST_REDIS_DB", "8")

import support  # noqa: E402  (puts the testbed's frappe on sys.path)

# isort: split
import frappe  # noqa: E402


def bench_site(prefix="bench"):
	"""A fresh site of its own (database `_<prefix>_localhost`), connected as Administrator."""
	return support.install_test_site(prefix)


def connect_bench_site(prefix):
	"""Connect the site `bench_site(prefix)` installed (a bench: the MYAPP_TEST_SITE site), as Administrator."""
	os.environ["MYAPP_TEST_DB_PREFIX"] = prefix
	support.connect_site()


def measure(fn, *args, **kwargs):
	"""(result, seconds, peak memory in MB) of one call: how far this process's RSS grew above
	where it started, sampled every 5 ms by a thread. Not tracemalloc: it slows allocation-heavy
	Python two- to threefold, and the workers' rows (no tracemalloc there) are compared with these."""
	import ctypes
	import gc
	import threading

	import psutil

	# memory an earlier measurement freed goes back to the OS first, or this call would reuse it
	# without growing the RSS
	gc.collect()
	ctypes.CDLL("libc.so.6").malloc_trim(0)
	process = psutil.Process()
	baseline = peak = process.memory_info().rss
	done = threading.Event()

	def sample():
		nonlocal peak
		while not done.wait(0.005):
			peak = max(peak, process.memory_info().rss)

	sampler = threading.Thread(target=sample, daemon=True)
	sampler.start()
	started = time.perf_counter()
	try:
		result = fn(*args, **kwargs)
	finally:
		seconds = time.perf_counter() - started
		done.set()
		sampler.join()
		peak = max(peak, process.memory_info().rss)
	return result, seconds, (peak - baseline) / 1024 / 1024


def run_workers_until(done, workers: int, queue: str = "long") -> tuple[float, float]:
	"""Start `workers` real workers on `queue`, poll `done()` (on a fresh snapshot) until it is
	true, stop them: (seconds, peak RSS in MB of any worker process and its work horses)."""
	import signal

	import psutil

	def with_children(pid):
		try:
			parent = psutil.Process(pid)
			return [parent, *parent.children(recursive=True)]
		except psutil.NoSuchProcess:
			return []

	started = time.perf_counter()
	processes = [support.start_worker(queue, burst=False) for _ in range(workers)]
	peak_rss = 0
	try:
		while True:
			for process in processes:
				for proc in with_children(process.pid):
					try:
						peak_rss = max(peak_rss, proc.memory_info().rss)
					except psutil.NoSuchProcess:
						pass
			frappe.db.rollback()  # a fresh snapshot
			if done():
				break
			time.sleep(0.1)
		seconds = time.perf_counter() - started
	finally:
		for process in processes:
			process.send_signal(signal.SIGTERM)
		for process in processes:
			process.communicate(timeout=120)
	return seconds, peak_rss / 1024 / 1024


class Table:
	"""Rows of job | path | records | rows/s | peak MB | note, printed aligned; ratios vs a baseline."""

	columns = ("job", "path", "records", "rows/s", "vs seed", "peak MB", "note")

	def __init__(self):
		self.rows = []

	def add(self, job, path, records, seconds, peak_mb=None, note="", baseline_rate=None, ratio=None):
		"""`ratio`: given as it is (a median of ratios, say) instead of the rate over `baseline_rate`."""
		rate = records / seconds if seconds else float("inf")
		if ratio is None and baseline_rate:
			ratio = rate / baseline_rate
		ratio = f"{ratio:.2f}x" if ratio is not None else ""
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
