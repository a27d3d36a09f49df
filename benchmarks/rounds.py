"""Interleaved rounds, every path in a fresh process: medians of rows/s and memory, and the
median of the per-round ratio to a reference path (rates on a shared machine swing by tens of
percent between runs; a ratio taken within one round cancels most of that).

	.venv/bin/python benchmarks/rounds.py cleanup [--rounds 3] [--rows 50000]
	.venv/bin/python benchmarks/rounds.py export [--rounds 3] [--rows 100000]
	.venv/bin/python benchmarks/rounds.py import [--rounds 3] [--rows 10000] [--doctype ToDo]

On a real bench, from `frappe-bench/sites` (a throwaway site: the paths empty the tables they use):
`MYAPP_TEST_SITE=S ../env/bin/python ../apps/myapp/benchmarks/rounds.py cleanup`.

Each path runs in a new Python process that connects the site, prepares its data (untimed) and
times its one call, as a job in a work horse pays for its first `get_list` and its first meta
load: Frappe's per-process caches start empty there too. The order of the paths rotates from
round to round. A benchmark module takes part by defining `ROUNDS` (see `bench_cleanup.py`).
"""

import argparse
import importlib
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULT_MARK = "ROUND-RESULT "


def run_one(module_name: str, path: str, rows: int, options: dict):
	"""In the child: connect, run one path, print its result on one line."""
	from common import connect_bench_site, frappe

	module = importlib.import_module(module_name)
	connect_bench_site(module.ROUNDS["site"])
	records, seconds, peak_mb = module.ROUNDS["paths"][path](rows, **options)
	frappe.db.commit()
	print(RESULT_MARK + json.dumps({"records": records, "seconds": seconds, "peak_mb": peak_mb}), flush=True)


def run_rounds(module_name: str, rounds: int, rows: int, options: dict, only: list[str] | None = None):
	from common import Table, bench_site

	module = importlib.import_module(module_name)
	spec = module.ROUNDS
	bench_site(spec["site"])
	if spec.get("setup"):
		spec["setup"](rows, **options)
	chosen = {name: fn for name, fn in spec["paths"].items() if not only or name in only}
	paths = [name for name, fn in chosen.items() if not getattr(fn, "unavailable", lambda: None)()]
	skipped = [f"{name}: {fn.unavailable()}" for name, fn in chosen.items() if name not in paths]

	results = {name: [] for name in paths}
	for number in range(rounds):
		order = paths[number % len(paths) :] + paths[: number % len(paths)]
		for name in order:
			result = child(module_name, name, rows, options)
			results[name].append(result)
			rate = result["records"] / result["seconds"]
			print(f"round {number + 1}: {name}: {rate:,.0f} rows/s, {result['peak_mb']:.1f} MB", flush=True)

	reference = next((name for name in spec["reference"] if name in paths), paths[0])
	table = Table()
	table.columns = ("job", "path", "records", "rows/s", "vs ref", "peak MB", "note")
	for name in paths:
		runs = results[name]
		rates = [r["records"] / r["seconds"] for r in runs]
		ratios = [
			(r["records"] / r["seconds"]) / (ref["records"] / ref["seconds"])
			for r, ref in zip(runs, results[reference], strict=True)
		]
		seconds = runs[0]["records"] / statistics.median(rates)
		note = f"rows/s by round: {', '.join(f'{rate:,.0f}' for rate in rates)}"
		if name != reference:
			note += f"; ratio {min(ratios):.2f}-{max(ratios):.2f}"
		table.add(
			spec["job"],
			name,
			runs[0]["records"],
			seconds,
			statistics.median(r["peak_mb"] for r in runs),
			note,
			ratio=statistics.median(ratios) if name != reference else None,
		)
	print()
	print(
		f"{rounds} interleaved rounds, each path in a fresh process; medians "
		f"(vs ref: the median of each round's ratio to {reference!r})"
	)
	table.print()
	for line in skipped:
		print(f"skipped {line}")


def child(module_name: str, path: str, rows: int, options: dict) -> dict:
	completed = subprocess.run(
		[sys.executable, __file__, "--one", module_name, path, str(rows), json.dumps(options)],
		cwd=os.getcwd(),
		capture_output=True,
		text=True,
	)
	for line in completed.stdout.splitlines():
		if line.startswith(RESULT_MARK):
			return json.loads(line[len(RESULT_MARK) :])
	raise RuntimeError(
		f"{module_name} {path} failed:\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}"
	)


JOBS = {"cleanup": "bench_cleanup", "export": "bench_export", "import": "bench_import"}


def main():
	sys.path.insert(0, str(HERE))
	if sys.argv[1:2] == ["--one"]:
		module_name, path, rows, options = sys.argv[2:6]
		run_one(module_name, path, int(rows), json.loads(options))
		return
	parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
	parser.add_argument("job", choices=sorted(JOBS))
	parser.add_argument("--rounds", type=int, default=3)
	parser.add_argument("--rows", type=int)
	parser.add_argument("--doctype", help="import only: Customer (default) or ToDo")
	parser.add_argument("--only", help="comma-separated paths to run (default: all)")
	args = parser.parse_args()
	module = importlib.import_module(JOBS[args.job])
	options = {"doctype": args.doctype} if args.doctype else {}
	only = args.only.split(",") if args.only else None
	run_rounds(JOBS[args.job], args.rounds, args.rows or module.ROUNDS["rows"], options, only)


if __name__ == "__main__":
	main()
