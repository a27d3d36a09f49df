# The two commands of the README's quick start are `make demo` and `make test`;
# both run scripts/setup.sh first (idempotent: reuses running services and an up-to-date .venv).
PYTHON := .venv/bin/python
PYTEST_ARGS ?=

.PHONY: setup test demo run console myapp worker bench lint format clean distclean ui-shots

setup:
	bash scripts/setup.sh

test: setup
	$(PYTHON) -m pytest tests -q -rfEs -p no:cacheprovider --durations=15 $(PYTEST_ARGS)

demo: setup
	$(PYTHON) demo/run.py

# The demo site by hand (scripts/site.py): make run JOB=myapp.tasks.daily_cleanup [KWARGS='{...}']
KWARGS ?= {}
run:
	$(PYTHON) scripts/site.py run "$(JOB)" '$(KWARGS)'

console:
	$(PYTHON) scripts/site.py console

myapp:
	$(PYTHON) scripts/site.py myapp $(CMD)

worker:
	$(PYTHON) scripts/site.py worker

# Desk screenshots (bench mode): tests/ui in a real browser against a running bench whose apps/myapp
# is this checkout (same commit), writing PNGs into docs/images/. Needs `DEV_SERVER=1 bench serve`,
# socket.io and no worker of the bench's own (docs/testing.md#desk-in-a-real-browser), e.g.
#   make ui-shots SITE=erp.localhost URL=http://erp.localhost:8000 [BENCH=../frappe-bench]
BENCH ?= ../frappe-bench
SITE ?=
URL ?=
ui-shots:
	@test -n "$(SITE)" && test -n "$(URL)" || { echo "usage: make ui-shots SITE=<throwaway test site> URL=http://<site>:<port> [BENCH=<frappe-bench folder>]"; exit 2; }
	@test -x "$(BENCH)/env/bin/python" || { echo "no bench at BENCH=$(BENCH) (set BENCH=<frappe-bench folder>)"; exit 2; }
	cd "$(BENCH)/sites" && MYAPP_TEST_SITE="$(SITE)" MYAPP_UI_URL="$(URL)" MYAPP_UI_SHOTS="$(CURDIR)/docs/images" \
		../env/bin/python -m pytest -p no:cacheprovider -q -rfEs "$(CURDIR)/tests/ui" $(PYTEST_ARGS)

bench: setup
	$(PYTHON) benchmarks/run_all.py

lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

format: setup
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .

# drops the throwaway sites' databases and empties their Redis databases, then removes the files
clean:
	[ ! -x $(PYTHON) ] || $(PYTHON) scripts/drop_test_sites.py
	find . -path ./.venv -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
	rm -rf .pytest_cache .hypothesis .ruff_cache build dist *.egg-info
	rm -rf sites tests/sites tests/.sites demo/sites benchmarks/sites benchmarks/results benchmarks/output

distclean: clean
	rm -rf .venv
