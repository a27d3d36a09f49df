"""Run issue 6's reliability and security suite and print the figures for README's
"Performance and reliability" section.

    MYAPP_TEST_DB_PREFIX=t6r MYAPP_TEST_REDIS_DB=11 .venv/bin/python tests/reliability_report.py

Extra arguments go to pytest (e.g. `-x`). The exit status is pytest's.
"""

import sys
import time
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
SUITE = ["test_reliability.py", "test_fuzz_import.py", "test_security.py"]


class Figures:
	def __init__(self):
		self.outcomes = {"passed": 0, "failed": 0, "skipped": 0}
		self.started = time.monotonic()

	def pytest_runtest_logreport(self, report):
		if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
			self.outcomes[report.outcome] = self.outcomes.get(report.outcome, 0) + 1

	def pytest_sessionfinish(self, session):
		self.modules = {
			name: sys.modules.get(name) for name in ("test_reliability", "test_fuzz_import", "test_security")
		}


def table(figures):
	reliability = getattr(figures.modules["test_reliability"], "FIGURES", {})
	fuzz = getattr(figures.modules["test_fuzz_import"], "FIGURES", {})
	security = figures.modules["test_security"]
	endpoints = len(getattr(security, "ENDPOINTS", {}))
	bad_arguments = sum(len(e.bad) for e in getattr(security, "ENDPOINTS", {}).values())
	rows = [
		("workers running the jobs at once", reliability.get("workers", 0)),
		("jobs run concurrently", reliability.get("jobs_run_concurrently", 0)),
		(
			"effects checked (emails, reminders, notifications, pushes, invoices, rows)",
			reliability.get("effects_checked", 0),
		),
		(
			"faults injected (SIGKILL, Redis stop/start, lock wait timeouts)",
			reliability.get("faults_injected", 0),
		),
		("CSV files thrown at the importer", fuzz.get("files", 0)),
		(
			"CSV rows in them (imported + reported)",
			f"{fuzz.get('rows', 0)} ({fuzz.get('rows_imported', 0)} + {fuzz.get('rows_reported', 0)})",
		),
		("worker crashes on random CSV", fuzz.get("worker_crashes", 0)),
		("whitelisted endpoints x (Guest, no role, permitted)", f"{endpoints} x 3"),
		("bad endpoint arguments tried", bad_arguments),
		("effects duplicated", reliability.get("effects_duplicated", 0)),
		("effects missing", reliability.get("effects_missing", 0)),
		("rows lost", reliability.get("rows_lost", 0) + fuzz.get("rows_lost", 0)),
		(
			"tests passed / failed / skipped",
			f"{figures.outcomes['passed']} / {figures.outcomes['failed']} / {figures.outcomes['skipped']}",
		),
		("wall time (s)", round(time.monotonic() - figures.started)),
	]
	width = max(len(label) for label, _value in rows)
	lines = [f"| {'figure'.ljust(width)} | value |", f"| {'-' * width} | ----- |"]
	lines += [f"| {label.ljust(width)} | {value} |" for label, value in rows]
	return "\n".join(lines)


def main(argv):
	figures = Figures()
	status = pytest.main(
		[
			"-q",
			"-p",
			"no:cacheprovider",
			"--rootdir",
			str(TESTS.parent),
			*[str(TESTS / name) for name in SUITE],
			*argv,
		],
		plugins=[figures],
	)
	print()
	print(table(figures))
	return int(status)


if __name__ == "__main__":
	sys.exit(main(sys.argv[1:]))
