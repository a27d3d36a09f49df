"""The demo site from the shell, as `bench --site S ...` works on a bench (`make demo` installs it):

    make run JOB=myapp.tasks.daily_cleanup [KWARGS='{"days": 3}']   # bench execute
    make console                                                     # bench console
    make myapp CMD="jobs"                                            # bench myapp jobs / failed / run ...

`run` calls the method in this process and commits, as `bench execute` does; to run a job
through the queue and a worker instead: `make myapp CMD="run myapp.tasks.daily_cleanup"` (a worker
must serve the queue: `make demo` leaves none running, so start one with `make worker`).
"""

import code
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import support  # noqa: E402  (puts the testbed's frappe on sys.path)

# isort: split
import frappe  # noqa: E402

DEMO_PREFIX = "demo"


def connect():
	os.environ["MYAPP_TEST_DB_PREFIX"] = DEMO_PREFIX
	if not (Path(support._sites_path()) / support._site_name()).exists():
		sys.exit("No demo site yet: run `make demo` first.")
	support.connect_site()
	return support._site_name()


def run(method: str, kwargs_json: str = "{}"):
	connect()
	try:
		kwargs = json.loads(kwargs_json or "{}")
	except ValueError as e:
		sys.exit(f"KWARGS is not JSON: {e}")
	result = frappe.get_attr(method)(**kwargs)
	frappe.db.commit()
	if result is not None:
		print(json.dumps(result, default=str, indent=1))


def console():
	site = connect()
	banner = f"Connected to {site} as Administrator: frappe is imported; commit with frappe.db.commit()."
	code.interact(banner=banner, local={"frappe": frappe})
	frappe.db.rollback()


def myapp_command(args: list[str]):
	from myapp.commands import commands

	site = connect()
	frappe.destroy()  # each command connects on its own, as under bench
	os.chdir(support._sites_path())  # bench runs its commands in the sites folder
	commands[0].main(args=args, obj={"sites": [site], "force": False, "profile": False}, prog_name="myapp")


def worker():
	"""A worker on the demo site's queues in this process (Ctrl+C stops it), as `bench worker`."""
	from frappe.utils.background_jobs import start_worker

	connect()
	frappe.destroy()
	os.chdir(support._sites_path())  # a worker finds its sites by the working directory
	print("A worker on the short, default and long queues (Ctrl+C stops it) ...")
	start_worker(queue="short,default,long", burst=False)


def main(argv: list[str]):
	if not argv:
		sys.exit(__doc__)
	command, *rest = argv
	if command == "run" and rest:
		run(rest[0], rest[1] if len(rest) > 1 else "{}")
	elif command == "console":
		console()
	elif command == "myapp":
		myapp_command(rest)
	elif command == "worker":
		worker()
	else:
		sys.exit(__doc__)


if __name__ == "__main__":
	main(sys.argv[1:])
