"""Issue 6, bad input: hypothesis throws random CSV files at the CSV importer (myapp.importer).

Files are random bytes, or CSV built from rows of known kinds (good rows, rows that must fail,
rows whose outcome is not predicted) with tricky cells (quotes, separators, line breaks, NULs,
formula cells, HTML, huge cells), then sometimes damaged (cut short, bytes spliced in).

Whatever the file, the import never raises, and every row is accounted for: imported, or reported
with its CSV line (rows lost = 0); a row known to be good lands with its value, a row known to be
bad is reported at its line. A file that cannot be read at all ends as Error with nothing written.
Most examples run the job in-process (fast); a few go through the endpoint and a real worker.
"""

import csv
import io
import os
import re
import uuid

import frappe
import pytest
from conftest import call_endpoint, make_user
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st
from user_jobs_helpers import customer_masters, upload_csv

from myapp.importer import FAILED_ROW_DOCTYPE, LOG_DOCTYPE, create_import_log, run_csv_import

COLUMNS = ["customer_name", "customer_group", "territory", "customer_type"]
LABELS = {"customer_name": "Customer Name", "customer_group": "Customer Group", "territory": "Territory"}
FORMULA_TRIGGERS = "=+-@\t\r"
GOOD, BAD, UNSURE = "good", "bad", "unsure"
MAX_NAME_LENGTH = 140  # a Data field

# What the figures in README's "Performance and reliability" count (read by tests/reliability_report.py).
FIGURES = {"files": 0, "rows": 0, "rows_imported": 0, "rows_reported": 0, "rows_lost": 0, "worker_crashes": 0}

# Any text UTF-8 can encode: every code point but the surrogates. Written with code point ranges,
# which every hypothesis takes (a `--dev` bench pins 6.77, older than `codec=` / `exclude_categories=`).
utf8_character = st.characters(min_codepoint=0, max_codepoint=0xD7FF) | st.characters(
	min_codepoint=0xE000, max_codepoint=0x10FFFF
)
tricky_text = st.text(alphabet=utf8_character, min_size=0, max_size=30)
name_prefix = st.one_of(
	st.sampled_from(
		[
			"=1+1",
			"'=SUM(A1:A9)",
			"@cmd",
			"+41 22",
			"-5",
			'"quoted"',
			"comma, inside",
			"line\nbreak",
			"carriage\rreturn",
			"<b>bold</b>",
			"ünïcødé ✓",
			"tab\there",
			"  padded  ",
		]
	),
	tricky_text.filter(lambda text: "\x00" not in text),
)


@st.composite
def data_row(draw, token):
	"""(kind, {column: cell} or a raw list of cells, expected customer_name for good rows)."""
	kind = draw(
		st.sampled_from(
			[
				"good",
				"good",
				"formula",
				"too_many",
				"too_few",
				"bad_type",
				"bad_group",
				"no_name",
				"huge",
				"nul",
				"random",
			]
		)
	)
	name = f"{draw(name_prefix)} {token}-{draw(st.integers(0, 10**9))}"
	cells = {
		"customer_name": name,
		"customer_group": "Retail",
		"territory": "Europe",
		"customer_type": draw(st.sampled_from(["Company", "Individual", "Partnership"])),
	}
	if kind in ("good", "formula"):
		if kind == "formula":
			cells["customer_name"] = (
				f'{draw(st.sampled_from(["=", "+", "@", chr(39) + "="]))}HYPERLINK("x") {token}-{draw(st.integers(0, 10**9))}'
			)
		expected = expected_name(cells["customer_name"])
		if not expected or len(expected) > MAX_NAME_LENGTH:
			return UNSURE, cells, None
		return name_outcome(expected), cells, expected
	if kind == "too_many":
		return BAD, [*(cells[c] for c in COLUMNS), draw(tricky_text) or "extra"], None
	if kind == "too_few":
		return "too_few", cells, expected_name(cells["customer_name"])  # csv_file keeps one cell
	if kind == "bad_type":
		cells["customer_type"] = draw(st.sampled_from(["Robot", "company ", "<script>", "=1"]))
		return (BAD if cells["customer_type"].strip() != "Company" else UNSURE), cells, None
	if kind == "bad_group":
		cells["customer_group"] = f"No Such Group {draw(tricky_text)} {token}"
		return BAD, cells, None
	if kind == "no_name":
		cells["customer_name"] = draw(st.sampled_from(["", "   ", "\t"]))
		return BAD, cells, None
	if kind == "huge":
		cells["customer_name"] = draw(st.sampled_from(["x", "é", '"', ","])) * draw(
			st.integers(MAX_NAME_LENGTH + 1, 200_000)
		)
		return BAD, cells, None
	if kind == "nul":
		cells["customer_name"] = f"nul\x00inside {token}-{draw(st.integers(0, 10**9))}"
		return UNSURE, cells, None
	return UNSURE, draw(st.lists(tricky_text, min_size=0, max_size=6)), None


def name_outcome(expected):
	"""GOOD for a row that names its Customer `expected`, BAD when v15 refuses that name (< or >)."""
	return BAD if "<" in expected or ">" in expected else GOOD


def expected_name(cell):
	"""What the importer stores for a cell (README): stripped; a "'" before a formula is dropped."""
	cell = cell.strip()
	if len(cell) > 1 and cell[0] == "'" and cell[1] in FORMULA_TRIGGERS:
		return cell[1:]
	return cell


@st.composite
def csv_file(draw):
	"""(file bytes, oracle) where oracle is None (unpredictable file) or [(line, kind, expected)]."""
	token = uuid.uuid4().hex[:8]
	shape = draw(st.sampled_from(["rows", "rows", "rows", "random_bytes", "damaged", "bad_header"]))
	if shape == "random_bytes":
		return draw(st.binary(min_size=0, max_size=3000)), None

	order = draw(st.permutations(COLUMNS))
	header = [LABELS.get(c, c) if draw(st.booleans()) else c for c in order]
	if shape == "bad_header":
		header = draw(st.lists(tricky_text, min_size=1, max_size=6))
	rows = draw(st.lists(data_row(token), min_size=0, max_size=25))
	# QUOTE_MINIMAL quotes a cell holding a character of the line terminator: with "\n" alone, a
	# cell's bare "\r" would be written unquoted and end the record (a different file than meant)
	terminator, quoting = draw(
		st.sampled_from([("\r\n", csv.QUOTE_MINIMAL), ("\r\n", csv.QUOTE_ALL), ("\n", csv.QUOTE_ALL)])
	)

	buffer = io.StringIO(newline="")
	writer = csv.writer(buffer, lineterminator=terminator, quoting=quoting)
	writer.writerow(header)
	oracle = []
	for kind, cells, expected in rows:
		line = 1 + len(re.findall(r"\r\n|\r|\n", buffer.getvalue()))
		if kind == "too_few":
			# only the first column's cell: ERPNext 15's Customer needs nothing but its name
			first = order[0]
			kind = name_outcome(expected) if first == "customer_name" else BAD
			cells = [cells[first]]
		elif isinstance(cells, dict):
			cells = [cells[c] for c in order]
		if not any(cell.strip() for cell in cells):
			kind = "blank"  # skipped by the importer: not a data row
		writer.writerow(cells)
		oracle.append((line, kind, expected))
	data = (("\ufeff" if draw(st.booleans()) else "") + buffer.getvalue()).encode()
	if shape == "damaged":
		cut = draw(st.integers(0, len(data)))
		data = data[:cut] + draw(st.binary(max_size=50)) + data[cut:][: draw(st.integers(0, len(data)))]
		return data, None
	if shape == "bad_header":
		return data, None
	return data, oracle


def customers_named(names):
	found = set()
	for start in range(0, len(names), 100):
		found |= set(
			frappe.get_all(
				"Customer",
				filters={"customer_name": ("in", names[start : start + 100])},
				pluck="customer_name",
			)
		)
	return found


def check_outcome(log_name, data, oracle, created, result=None):
	"""The invariants; updates FIGURES."""
	log = frappe.get_doc(LOG_DOCTYPE, log_name)
	failed = frappe.get_all(
		FAILED_ROW_DOCTYPE,
		filters={"parent": log_name},
		fields=["row_number", "error"],
	)
	FIGURES["files"] += 1
	status = (result or {}).get("status") or log.status
	if status == "Error":
		assert created == 0, "an unreadable file wrote rows"
		assert (log.error_message or (result or {}).get("error") or "").strip(), "an Error without a message"
		assert failed == []
		assert oracle is None or not any(kind in (GOOD, BAD, UNSURE) for _line, kind, _e in oracle), (
			f"a well-formed file with data rows ended in Error: {log.error_message}"
		)
		return

	total = log.total_rows
	assert log.processed_rows == total, "not every row was processed"
	assert log.success_count + log.error_count == total, "rows lost"
	assert created == log.success_count, "imported rows and created records differ"
	assert len(failed) == log.error_count, "a failed row was not reported"
	lines = [row.row_number for row in failed]
	assert len(set(lines)) == len(lines) and all(line >= 2 for line in lines), lines
	assert all(row.error and row.error.strip() for row in failed), "a failure without a message"
	FIGURES["rows"] += total
	FIGURES["rows_imported"] += log.success_count
	FIGURES["rows_reported"] += log.error_count
	FIGURES["rows_lost"] += total - log.success_count - log.error_count

	if oracle is None:
		return
	data_rows = [(line, kind, expected) for line, kind, expected in oracle if kind != "blank"]
	assert total == len(data_rows)
	failed_lines = set(lines)
	good = [(line, expected) for line, kind, expected in data_rows if kind == GOOD]
	landed = customers_named([expected for _line, expected in good])
	for line, expected in good:
		assert expected in landed, f"good row at line {line} ({expected[:60]!r}) did not land"
		assert line not in failed_lines
	for line, kind, _expected in data_rows:
		if kind == BAD:
			assert line in failed_lines, f"bad row at line {line} was not reported at its line"
	assert failed_lines <= {line for line, _kind, _expected in data_rows}, "a failure on a line with no row"


@pytest.fixture
def masters(erpnext):
	customer_masters()


def upload(data, owner=None):
	"""A private File holding exactly `data`, even nothing at all (an upload's content must not be empty)."""
	if data:
		return upload_csv(f"fuzz-{uuid.uuid4().hex[:8]}.csv", data, owner=owner)
	file_name = f"fuzz-empty-{uuid.uuid4().hex[:8]}.csv"
	with open(frappe.get_site_path("private", "files", file_name), "wb"):
		pass
	file = frappe.get_doc(
		{
			"doctype": "File",
			"file_name": file_name,
			"file_url": f"/private/files/{file_name}",
			"is_private": 1,
		}
	).insert(ignore_permissions=True)
	if owner:
		frappe.db.set_value("File", file.name, "owner", owner)
	frappe.db.commit()
	return file.file_url


def import_in_process(data):
	file_url = upload(data)
	log = create_import_log(file_url, "Customer")
	frappe.db.commit()
	before = frappe.db.count("Customer")
	result = run_csv_import(log.name)  # must not raise, whatever the file
	frappe.db.commit()
	return log.name, result, frappe.db.count("Customer") - before


SETTINGS = dict(
	deadline=None,
	suppress_health_check=[
		HealthCheck.function_scoped_fixture,
		HealthCheck.too_slow,
		HealthCheck.data_too_large,
	],
	database=None,
)


@settings(max_examples=int(os.environ.get("MYAPP_FUZZ_EXAMPLES", "60")), **SETTINGS)
@given(csv_file())
def test_random_files_in_process(masters, case):
	data, oracle = case
	log_name, result, created = import_in_process(data)
	assert isinstance(result, dict) and result.get("status") in ("Error", "Success", "Completed with Errors")
	check_outcome(log_name, data, oracle, created, result)


@settings(max_examples=4, **SETTINGS)
@given(csv_file())
def test_random_files_through_the_endpoint_and_a_worker(masters, drain, case):
	data, oracle = case
	user = frappe.db.get_value("User", {"name": "fuzz.importer@myapp.test"}) or make_user(
		"fuzz.importer@myapp.test", ["Sales Master Manager"]
	)
	file_url = upload(data, owner=user)
	before = frappe.db.count("Customer")
	errors_before = frappe.db.count("Error Log")
	log_name = call_endpoint("myapp.api.start_csv_import", user=user, file_url=file_url, doctype="Customer")[
		"import_log"
	]
	output = drain()
	frappe.db.rollback()
	log = frappe.get_doc(LOG_DOCTYPE, log_name)
	# the job ended normally: its on_success callback set the final status, no failure was logged
	if (
		log.status not in ("Success", "Completed with Errors", "Error")
		or frappe.db.count("Error Log") != errors_before
	):
		FIGURES["worker_crashes"] += 1
	assert log.status in ("Success", "Completed with Errors", "Error"), output
	assert frappe.db.count("Error Log") == errors_before, output
	check_outcome(log_name, data, oracle, frappe.db.count("Customer") - before)


def test_the_oracle_is_exercised():
	"""The strategy yields files with rows known to be good and rows known to be bad, so the
	checks above are not vacuous."""
	search = settings(max_examples=500, database=None, deadline=None)
	for kind in (GOOD, BAD):
		data, oracle = find(
			csv_file(), lambda case, kind=kind: any(k == kind for _l, k, _e in case[1] or []), settings=search
		)
		assert data and oracle
