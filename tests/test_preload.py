"""`bench worker` imports the app's jobs' modules once (myapp.utils.preload), so that every work
horse it forks starts with them instead of importing them for each job."""

import subprocess
import sys
import uuid

import frappe
import pytest
from support import BENCH_SITE, _sites_path, _worker_env, pending_jobs
from testbed_jobs_fixtures import recorded, report_preloaded_modules

from myapp.utils.preload import MODULES, is_worker_command


@pytest.mark.parametrize(
	"argv, worker",
	[
		(["bench_helper.py", "frappe", "worker", "--queue", "long"], True),
		(["bench_helper.py", "frappe", "worker-pool", "--num-workers", "2"], True),
		(["bench_helper.py", "frappe", "--site", "s1", "worker"], True),
		(["bench_helper.py", "frappe", "--site", "s1", "migrate"], False),
		(["bench_helper.py", "frappe", "--site", "s1", "execute", "myapp.tasks.daily_cleanup"], False),
		(["pytest", "tests"], False),
	],
)
def test_only_a_worker_command_preloads(argv, worker):
	assert is_worker_command(argv) is worker


def test_a_bench_worker_forks_its_jobs_with_the_modules_preloaded():
	if not BENCH_SITE:
		pytest.skip("needs the bench CLI (`bench worker` through frappe.utils.bench_helper): run in a bench")
	key = f"preload-{uuid.uuid4().hex[:8]}"
	frappe.enqueue(report_preloaded_modules, queue="short", key=key)
	frappe.db.commit()
	# what `bench worker --queue short --burst` runs, from the sites folder
	worker = subprocess.run(
		[
			sys.executable,
			"-m",
			"frappe.utils.bench_helper",
			"frappe",
			"worker",
			"--queue",
			"short",
			"--burst",
		],
		cwd=_sites_path(),
		env=_worker_env(),
		capture_output=True,
		text=True,
		timeout=300,
	)
	assert recorded(key) == list(MODULES), worker.stdout + worker.stderr
	assert not pending_jobs(queues=("short",)), worker.stdout
