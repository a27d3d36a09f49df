"""`make bench`: every benchmark in one process, one table.

Each `bench_*.py` module has `run(table)`, which installs its own site, measures the app's path
beside the seed's naive one and adds rows to the shared table.
"""

import importlib
import sys
from pathlib import Path

from common import Table

BENCHMARKS = sorted(p.stem for p in Path(__file__).resolve().parent.glob("bench_*.py"))


def main(names):
	table = Table()
	for name in names or BENCHMARKS:
		print(f"running {name} ...", flush=True)
		importlib.import_module(name).run(table)
	print()
	table.print()


if __name__ == "__main__":
	main(sys.argv[1:])
