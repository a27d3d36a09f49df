"""Example 3 + workflow 7: CSV and Excel import into any DocType, on one or several workers,
with progress, resume and callbacks.

A CSV Import Log holds the file, the target DocType and the counters. The job (`run_csv_import`)
streams the file: a first pass checks the encoding and the header and counts the rows before
anything is written. The rows are then split into chunks of `batch_size` rows (CSV Import Chunk
records). Each job taking part (this one, plus `workers - 1` helper jobs `import_chunks`) claims
chunk after chunk with `SELECT ... FOR UPDATE SKIP LOCKED` (myapp.utils.batching.claim_rows, as
the invoice batches are claimed), imports each row in its own savepoint (a bad row is rolled back
alone and recorded with its CSV line or sheet row number) and commits the chunk at once: its rows,
its failed-row records, the chunk marked Done and the log's counters. A worker killed in the middle
loses only its uncommitted chunk, which the database unlocks: another job of the import claims it
at once, or the next start does; no row is imported twice. A deadlock or lock wait timeout is
retried (the row, or the chunk when InnoDB has undone the transaction), never reported as a bad row.
The first job waits until every chunk is done, so its end is the import's end.

The job's RQ callbacks (`on_import_success` / `on_import_failure`, hooked up as
`myapp.tasks.*`) set the final status and notify the user. They run outside any site
context, as every RQ callback in Frappe does, so they open the job's site themselves.
"""

import csv
import datetime
import time

import frappe
from frappe import _
from frappe.model import CORE_DOCTYPES, data_fieldtypes
from frappe.utils import cint, get_url_to_form, now_datetime

from myapp.utils.batching import claim_rows
from myapp.utils.csvfile import FORMULA_TRIGGERS
from myapp.utils.jobs import (
	enqueue_once,
	job_site_callback,
	releases_claim_on_failure,
	releases_claim_on_success,
)
from myapp.utils.notify import email_addresses, notify_user
from myapp.utils.permissions import permlevels
from myapp.utils.progress import Progress, publish_doc_update
from myapp.utils.savepoint import isolated, lock_wait_timeout, transaction_lost

LOG_DOCTYPE = "CSV Import Log"
FAILED_ROW_DOCTYPE = "CSV Import Log Failed Row"
CHUNK_DOCTYPE = "CSV Import Chunk"
CHUNK_METHOD = "myapp.importer.import_chunks"
# a pending chunk of the import (or that one chunk, to claim it again after a rollback)
CHUNK_CLAIM_CONDITION = (
	"import_log = %(log)s and status = 'Pending' and (%(name)s is null or name = %(name)s)"
)
IMPORT_QUEUE = "long"
IMPORT_TIMEOUT = 2 * 60 * 60
DEFAULT_BATCH_SIZE = 100
FINISHED_STATUSES = ("Success", "Completed with Errors")
IDENTIFIER_COLUMNS = ("name", "id")
ROW_SAVEPOINT = "myapp_import_row"
MAX_ERROR_LENGTH = 1000
# As v15's Data Import: no import into the DocTypes that define DocTypes, fields and permissions.
BLOCKED_DOCTYPES = CORE_DOCTYPES - {"User", "Role", "Print Format"}
# A cell longer than this makes the file unreadable (a clear error before any row is written).
MAX_CELL_CHARACTERS = 10 * 1024 * 1024
# Field types that hold no value of their own or are computed.
NOT_IMPORTED_FIELDTYPES = ("Read Only",)
IMPORTABLE_EXTENSIONS = (".csv", ".xlsx")
# A row whose lock wait timed out is tried again (after a short pause) this often before its
# chunk is rolled back and tried again; a chunk rolled back by a deadlock or by a row that kept
# timing out is tried again this often before the job fails (a later start resumes it).
ROW_LOCK_ATTEMPTS = 3
CHUNK_ATTEMPTS = 5
# How often the first job looks for chunks that other jobs still hold (seconds).
WAIT_FOR_CHUNKS_EVERY = 0.5


class ImportFileError(frappe.ValidationError):
	"""The file cannot be imported at all (encoding, header): nothing is written."""


# starting an import (called by the endpoints in myapp.api)
def import_job_id(doctype: str, file_url: str) -> str:
	# one import of a given file into a given DocType at a time, from any log or endpoint
	return f"csv_import::{doctype}::{file_url}"


def can_import(doctype: str) -> bool:
	"""The DocTypes v15's Data Import offers (`frappe.boot.user.can_import`): import permission,
	or a System Manager on a DocType that allows import; never a core DocType it blocks."""
	if doctype in BLOCKED_DOCTYPES:
		return False
	if frappe.has_permission(doctype, "import"):
		return True
	return "System Manager" in frappe.get_roles() and bool(frappe.get_meta(doctype).allow_import)


def check_import_permission(doctype: str, update_existing: bool):
	if isinstance(doctype, str) and doctype in BLOCKED_DOCTYPES:
		frappe.throw(_("Importing {0} is not allowed.").format(_(doctype)), frappe.PermissionError)
	if not isinstance(doctype, str) or not frappe.db.exists("DocType", doctype):
		frappe.throw(_("DocType {0} does not exist").format(frappe.bold(doctype)), frappe.DoesNotExistError)
	meta = frappe.get_meta(doctype)
	if meta.issingle or meta.istable:
		frappe.throw(_("Cannot import into {0}: it has no list of records").format(_(doctype)))
	if not can_import(doctype):
		frappe.throw(_("You are not allowed to import {0}").format(_(doctype)), frappe.PermissionError)
	frappe.has_permission(doctype, "create", throw=True)
	if update_existing:
		frappe.has_permission(doctype, "write", throw=True)


def get_import_file(file_url: str):
	"""The File document of `file_url`, which the user must be able to read."""
	if not file_url or not isinstance(file_url, str):
		frappe.throw(_("Attach a CSV or Excel file to import"), frappe.MandatoryError)
	name = frappe.db.get_value("File", {"file_url": file_url}, "name")
	if not name:
		frappe.throw(_("File {0} not found").format(file_url), frappe.DoesNotExistError)
	file = frappe.get_doc("File", name)
	frappe.has_permission("File", "read", doc=file, throw=True)
	if not file.file_name.lower().endswith(IMPORTABLE_EXTENSIONS):
		frappe.throw(_("Only CSV files and Excel workbooks (.xlsx) can be imported"), ImportFileError)
	return file


def create_import_log(
	file_url: str, doctype: str, update_existing=False, batch_size=None, workers=None, in_file_order=False
):
	check_import_permission(doctype, cint(update_existing))
	get_import_file(file_url)
	log = frappe.get_doc(
		{
			"doctype": LOG_DOCTYPE,
			"import_file": file_url,
			"reference_doctype": doctype,
			"update_existing": cint(update_existing),
			"batch_size": cint(batch_size) or DEFAULT_BATCH_SIZE,
			"workers": max(0, cint(workers)),
			"in_file_order": cint(in_file_order),
		}
	)
	log.insert(ignore_permissions=True)
	return log


def create_import_log_from_path(
	path: str, doctype: str, update_existing=False, batch_size=None, workers=None, in_file_order=False
):
	"""`bench myapp import`: the file on this machine becomes a private File attached to a new CSV
	Import Log, as an upload in Desk would. Permissions are checked first, as the current user."""
	import os

	check_import_permission(doctype, cint(update_existing))
	file_name = os.path.basename(path)
	if not file_name.lower().endswith(IMPORTABLE_EXTENSIONS):
		frappe.throw(_("Only CSV files and Excel workbooks (.xlsx) can be imported"), ImportFileError)
	with open(path, "rb") as stream:
		content = stream.read()
	file = frappe.get_doc({"doctype": "File", "file_name": file_name, "content": content, "is_private": 1})
	file.insert()
	log = create_import_log(file.file_url, doctype, update_existing, batch_size, workers, in_file_order)
	attached = {"attached_to_doctype": LOG_DOCTYPE, "attached_to_name": log.name}
	# v15's attach_files_to_document may have attached a File of this URL to the log already
	if not frappe.db.exists("File", {"file_url": file.file_url, **attached}):
		frappe.db.set_value("File", file.name, {**attached, "attached_to_field": "import_file"})
	return log


def start_import(import_log_name: str, retry_failed_rows=False) -> dict:
	"""Queue the import (or its resume, or a retry of its failed rows) of a CSV Import Log.

	Refused while an import of the same file into the same DocType is queued or running.
	The job is enqueued when this request commits, so it always sees the log as Queued."""
	retry_failed_rows = cint(retry_failed_rows)
	log = frappe.get_doc(LOG_DOCTYPE, import_log_name)
	log.check_permission("write")
	check_import_permission(log.reference_doctype, log.update_existing)
	get_import_file(log.import_file)
	if retry_failed_rows:
		if log.status != "Completed with Errors" or not log.error_count:
			frappe.throw(_("There are no failed rows to retry"))
	elif log.status in FINISHED_STATUSES:
		frappe.throw(_("This import has finished. Use Retry Failed Rows to import the rows that failed."))

	job_id = import_job_id(log.reference_doctype, log.import_file)
	enqueue_once(
		"myapp.importer.run_csv_import",
		job_id,
		queue=IMPORT_QUEUE,
		timeout=IMPORT_TIMEOUT,
		on_success="myapp.tasks.on_import_success",
		on_failure="myapp.tasks.on_import_failure",
		message=_("This file is already being imported into {0}. Please wait.").format(
			_(log.reference_doctype)
		),
		enqueue_after_commit=True,
		import_log_name=log.name,
		retry_failed_rows=retry_failed_rows,
	)
	frappe.db.set_value(
		LOG_DOCTYPE,
		log.name,
		{
			"status": "Queued",
			"job_id": job_id,
			"started_by": frappe.session.user,
			"error_message": None,
			"finished_at": None,
		},
	)
	return {"job_id": job_id, "import_log": log.name}


# the job
def run_csv_import(import_log_name: str, retry_failed_rows=False) -> dict:
	"""The import job (`myapp.importer.run_csv_import`), as the user who started it.

	Plans the chunks (once per import: a resume keeps them), queues `workers - 1` helper jobs,
	imports chunks itself and returns when every chunk is done."""
	log = frappe.get_doc(LOG_DOCTYPE, import_log_name)
	update_log(log.name, status="Running", started_at=log.started_at or now_datetime())
	frappe.db.commit()
	try:
		path = get_import_file(log.import_file).get_full_path()
		header, total = scan_file(path)
		columns = map_header(log.reference_doctype, header, log.update_existing)
	except ImportFileError as e:
		frappe.db.rollback()
		message = message_text(str(e))
		update_log(log.name, error_message=message)
		frappe.db.commit()
		return {"status": "Error", "error": message}

	importer = RowImporter(log, columns, path)
	if cint(retry_failed_rows):
		return importer.retry_failed_rows()

	plan_chunks(log, total)
	workers, note = worker_count(log, columns, path)
	update_log(log.name, total_rows=total, workers_used=workers, order_note=note)
	frappe.db.commit()
	for _helper in range(workers - 1):
		frappe.enqueue(
			CHUNK_METHOD,
			queue=IMPORT_QUEUE,
			timeout=IMPORT_TIMEOUT,
			job_id=f"{import_job_id(log.reference_doctype, log.import_file)}::{frappe.generate_hash(length=10)}",
			import_log_name=log.name,
		)
	return importer.run(total, wait_for_others=True)


def import_chunks(import_log_name: str) -> dict:
	"""A helper job of a running import (`myapp.importer.import_chunks`): claims and imports chunk
	after chunk until none is left, then ends. The import's first job waits for it."""
	log = frappe.get_doc(LOG_DOCTYPE, import_log_name)
	if log.status != "Running":
		return {"chunks": 0}
	path = get_import_file(log.import_file).get_full_path()
	columns = map_header(log.reference_doctype, read_header(path), log.update_existing)
	importer = RowImporter(log, columns, path)
	importer.import_chunks()
	return {"chunks": importer.chunks_done}


def plan_chunks(log, total: int):
	"""CSV Import Chunks of `batch_size` rows over the rows not yet imported, unless the import
	has them already (a resume). An import started before chunks existed resumes after its
	committed rows."""
	if frappe.db.exists(CHUNK_DOCTYPE, {"import_log": log.name}):
		return
	size = max(1, cint(log.batch_size) or DEFAULT_BATCH_SIZE)
	first = cint(log.processed_rows) + 1
	now = now_datetime()
	user = frappe.session.user
	frappe.db.bulk_insert(
		CHUNK_DOCTYPE,
		["name", "creation", "modified", "owner", "modified_by", "import_log", "first_row", "row_count"]
		+ ["status", "success_count", "error_count", "attempts"],
		(
			(frappe.generate_hash(length=12), now, now, user, user, log.name, start)
			+ (min(size, total - start + 1), "Pending", 0, 0, 0)
			for start in range(first, total + 1, size)
		),
	)


def worker_count(log, columns: list[str], path: str) -> tuple[int, str | None]:
	"""How many jobs import this file at once, and why only one when more were asked for.

	The log's Workers, else as many as serve the import queue (at least one); one when the user
	asked for file order or the file has rows that depend on earlier rows."""
	asked = cint(log.workers) or queue_workers()
	if asked <= 1:
		return 1, None
	if cint(log.in_file_order):
		return 1, _("Import in file order was chosen.")
	reason = rows_depend_on_each_other(log.reference_doctype, columns, path)
	if reason:
		return 1, reason
	pending = frappe.db.count(CHUNK_DOCTYPE, {"import_log": log.name, "status": "Pending"})
	return max(1, min(asked, pending)), None


def queue_workers() -> int:
	"""The workers serving the import queue (bench-wide, as `bench worker` processes listen)."""
	from myapp.utils.jobs import workers_serving

	try:
		return max(1, workers_serving(IMPORT_QUEUE))
	except Exception:
		return 1


def rows_depend_on_each_other(doctype: str, columns: list[str], path: str) -> str | None:
	"""Why the rows must be imported in file order, found cheaply, or None.

	A column that links to the DocType itself (a parent in the same file, a tree) or a name / id
	that the file repeats (an update of the same record twice, or an insert and its update): on
	several workers a later row could run before the row it depends on."""
	fields = importable_fields(doctype)
	for column in columns:
		df = fields.get(column)
		if df and df.fieldtype == "Link" and df.options == doctype:
			return _("Column {0} links to {1} records, which may be rows of the same file.").format(
				df.get("label") or column, _(doctype)
			)
	positions = [i for i, column in enumerate(columns) if column in IDENTIFIER_COLUMNS]
	if not positions:
		return None
	seen = set()  # hashes of the names: a collision only costs parallelism
	rows = read_rows(path)
	next(rows)  # header
	for line, cells in rows:
		for position in positions:
			value = cells[position].strip().casefold() if position < len(cells) else ""
			if not value:
				continue
			key = hash(value)
			if key in seen:
				return _("The name {0} appears more than once in the file (line {1}).").format(
					frappe.bold(cells[position].strip()), line
				)
			seen.add(key)
	return None


def scan_file(path: str) -> tuple[list[str], int]:
	"""The header and the number of data rows; a clear ImportFileError if the file cannot be read.

	Streams the whole file once, so a non-UTF-8 byte anywhere is found before any row is written."""
	header, total = None, 0
	for _line, row in read_rows(path):
		if header is None:
			header = [cell.strip() for cell in row]
		else:
			total += 1
	if header is None:
		frappe.throw(_("The file is empty"), ImportFileError)
	if not total:
		frappe.throw(_("The file has a header but no data rows"), ImportFileError)
	return header, total


def read_header(path: str) -> list[str]:
	rows = read_rows(path)
	try:
		return [cell.strip() for cell in next(rows)[1]]
	finally:
		rows.close()


def is_excel(path: str) -> bool:
	return path.lower().endswith(".xlsx")


def read_rows(path: str):
	"""(line number, cells as text) of each non-blank row of a CSV file or of an Excel workbook's
	first sheet, streamed; the header is line 1. Unreadable files raise ImportFileError."""
	reader = read_xlsx(path) if is_excel(path) else read_csv(path)
	try:
		yield from reader
	except UnicodeDecodeError as e:
		frappe.throw(
			_(
				"The file is not UTF-8 encoded (byte {0} cannot be read). Save it as CSV UTF-8 and upload it again."
			).format(e.start),
			ImportFileError,
		)
	except csv.Error as e:
		frappe.throw(_("The file is not a valid CSV file: {0}").format(e), ImportFileError)
	finally:
		reader.close()


def read_csv(path: str):
	"""(line number, cells) of each non-blank CSV record, streamed; the header is line 1.

	`utf-8-sig` drops a byte order mark; a record spanning lines reports its first line."""
	# The csv module's default cell limit (128 KiB) would end the whole import at one huge cell;
	# with a larger one, that cell fails its own row (the field's length check) and the rest import.
	previous_limit = csv.field_size_limit(MAX_CELL_CHARACTERS)
	try:
		with open(path, encoding="utf-8-sig", newline="") as stream:
			reader = csv.reader(stream)
			line = 1
			for row in reader:
				if any(cell.strip() for cell in row):
					yield line, row
				line = reader.line_num + 1
	finally:
		csv.field_size_limit(previous_limit)


def read_xlsx(path: str):
	"""(sheet row number, cells as text) of each non-blank row of the workbook's first sheet.

	openpyxl's read-only mode parses the sheet as a stream (the shared strings table is read once):
	memory does not grow with the rows. Values are the ones Excel last computed (`data_only`)."""
	from zipfile import BadZipFile

	from openpyxl import load_workbook
	from openpyxl.utils.exceptions import InvalidFileException

	try:
		workbook = load_workbook(path, read_only=True, data_only=True)
	except (BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as e:
		frappe.throw(
			_("The file is not a valid Excel workbook (.xlsx): {0}").format(e or e.__class__.__name__),
			ImportFileError,
		)
	try:
		sheet = workbook.worksheets[0]
		# the stored dimensions may be wrong or missing (some writers): read every row there is
		sheet.reset_dimensions()
		# missing rows are yielded as empty ones, so the position is the sheet's row number
		for line, values in enumerate(sheet.iter_rows(values_only=True), start=1):
			cells = [excel_text(value) for value in values]
			while cells and not cells[-1].strip():
				cells.pop()  # formatted but empty cells past the data
			if cells:
				yield line, cells
	finally:
		workbook.close()


def excel_text(value) -> str:
	"""A cell value as the text a CSV file would hold, which the row's fields then parse."""
	if value is None:
		return ""
	if isinstance(value, bool):
		return "1" if value else "0"
	if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
		return str(int(value))
	if isinstance(value, datetime.datetime):
		if value.time() == datetime.time(0, 0):
			return value.date().isoformat()
		return value.isoformat(sep=" ")
	if isinstance(value, datetime.date | datetime.time):
		return value.isoformat()
	return str(value)


def importable_fields(doctype: str) -> dict:
	"""{fieldname: df} of the value fields an import may set."""
	return {
		df.fieldname: df
		for df in frappe.get_meta(doctype).fields
		if df.fieldtype in data_fieldtypes and df.fieldtype not in NOT_IMPORTED_FIELDTYPES
	}


def map_header(doctype: str, header: list[str], update_existing=False) -> list[str]:
	"""The fieldname of each column (field names or labels, plus `name` / `id`); throws
	ImportFileError for unknown or repeated columns and for missing mandatory fields."""
	fields = importable_fields(doctype)
	by_label = {}
	for fieldname, df in fields.items():
		if df.get("label"):
			by_label.setdefault(df.label.strip().lower(), []).append(fieldname)

	columns, unknown = [], []
	for title in header:
		if title in fields or title in IDENTIFIER_COLUMNS:
			columns.append(title)
		elif len(by_label.get(title.lower(), [])) == 1:
			columns.append(by_label[title.lower()][0])
		else:
			unknown.append(title or _("(empty)"))
	if unknown:
		frappe.throw(
			_("Unknown columns for {0}: {1}. Use field names or labels of {0}.").format(
				_(doctype), ", ".join(unknown)
			),
			ImportFileError,
		)
	# v15 silently resets a value the user may not write (a field of a higher permlevel): the row
	# would count as imported without it, so such a column is refused before any row
	writable = permlevels(doctype, "write")
	not_writable = [
		fields[c].get("label") or c
		for c in columns
		if c in fields and (fields[c].get("permlevel") or 0) not in writable
	]
	if not_writable:
		frappe.throw(
			_("You may not set these columns of {0}: {1}").format(_(doctype), ", ".join(not_writable)),
			ImportFileError,
		)
	repeated = sorted({c for c in columns if columns.count(c) > 1})
	if repeated or ("name" in columns and "id" in columns):
		frappe.throw(
			_("Columns appear more than once: {0}").format(", ".join(repeated or ["name/id"])),
			ImportFileError,
		)

	updating_by_identifier = cint(update_existing) and any(c in IDENTIFIER_COLUMNS for c in columns)
	if not updating_by_identifier:
		missing = [
			df.get("label") or fieldname
			for fieldname, df in fields.items()
			if df.get("reqd") and df.get("default") in (None, "") and fieldname not in columns
		]
		if missing:
			frappe.throw(
				_("Mandatory columns missing for {0}: {1}").format(_(doctype), ", ".join(missing)),
				ImportFileError,
			)
	return columns


def cell_value(cell: str):
	"""A CSV cell as a field value: blank is None; "'=..." (as our exports write formulas) is "=..."."""
	cell = cell.strip()
	if not cell:
		return None
	if len(cell) > 1 and cell[0] == "'" and cell[1] in FORMULA_TRIGGERS:
		return cell[1:]
	return cell


class RowCursor:
	"""The data rows of the file, read forward: a job takes chunk after chunk in file order, so it
	reads the file once (skipping the other jobs' rows); going back (a chunk claimed again after a
	rollback) opens the file again."""

	def __init__(self, path: str):
		self.path = path
		self.rows = None
		self.position = 0  # data rows read so far

	def take(self, first_row: int, count: int):
		"""(line, cells) of the data rows first_row .. first_row + count - 1 (counted from 1)."""
		if self.rows is None or first_row <= self.position:
			self.close()
			self.rows = read_rows(self.path)
			next(self.rows)  # header
			self.position = 0
		for line, cells in self.rows:
			self.position += 1
			if self.position < first_row:
				continue
			yield line, cells
			if self.position >= first_row + count - 1:
				return

	def close(self):
		if self.rows is not None:
			self.rows.close()
			self.rows = None


class ChunkRolledBack(Exception):
	"""The chunk's transaction was undone (deadlock, or a row whose lock wait kept timing out)."""


class RowImporter:
	def __init__(self, log, columns: list[str], path: str):
		self.log = log
		self.doctype = log.reference_doctype
		self.update_existing = cint(log.update_existing)
		self.columns = columns
		self.path = path
		self.batch_size = max(1, cint(log.batch_size) or DEFAULT_BATCH_SIZE)
		self.success = cint(log.success_count)
		self.errors = cint(log.error_count)
		self.new_failures: list[tuple[int, str]] = []
		self.last_inserted = None
		self.chunks_done = 0
		self.title = _("Importing {0}").format(_(self.doctype))

	def data_rows(self):
		rows = read_rows(self.path)
		next(rows)  # header
		return rows

	# chunks (a first import and its resumes)
	def run(self, total: int, wait_for_others: bool = False) -> dict:
		"""Import chunks until none is left; with `wait_for_others`, also wait for the chunks other
		jobs hold (and take over the ones a killed job released) until every chunk is done."""
		self.import_chunks()
		while wait_for_others and self.pending_chunks():
			if not self.import_chunks():
				time.sleep(WAIT_FOR_CHUNKS_EVERY)
		frappe.db.rollback()  # a fresh snapshot of the counters the other jobs committed
		counts = frappe.db.get_value(
			LOG_DOCTYPE, self.log.name, ["success_count", "error_count"], as_dict=True
		)
		return {
			"status": "Success" if not cint(counts.error_count) else "Completed with Errors",
			"success": cint(counts.success_count),
			"errors": cint(counts.error_count),
		}

	def pending_chunks(self) -> int:
		frappe.db.rollback()  # a fresh snapshot: the other jobs commit in their own connections
		return frappe.db.count(CHUNK_DOCTYPE, {"import_log": self.log.name, "status": "Pending"})

	def import_chunks(self) -> int:
		"""Claim and import chunk after chunk until none is claimable; the number imported."""
		cursor = RowCursor(self.path)
		done = 0
		try:
			while frappe.db.get_value(LOG_DOCTYPE, self.log.name, "status") == "Running":
				chunk = self.claim_chunk()
				if not chunk:
					break
				if self.import_chunk(chunk, cursor):
					done += 1
				frappe.db.rollback()  # end the snapshot: the next status and claim see new commits
		finally:
			cursor.close()
		self.chunks_done += done
		return done

	def claim_chunk(self, name: str | None = None):
		chunks = claim_rows(
			CHUNK_DOCTYPE,
			CHUNK_CLAIM_CONDITION,
			{"log": self.log.name, "name": name},
			1,
			order_by="first_row",
			fields=["name", "first_row", "row_count", "attempts"],
		)
		return chunks[0] if chunks else None

	def import_chunk(self, chunk, cursor: RowCursor) -> bool:
		"""Import the claimed chunk's rows, each in its savepoint, and commit them with the chunk
		marked Done, its failed rows and the log's counters. A deadlock (InnoDB has undone the
		transaction) or a row that kept hitting lock wait timeouts rolls the chunk back; it is
		claimed again and redone, up to CHUNK_ATTEMPTS times. False if another job took it meanwhile."""
		while True:
			success, failures = 0, []
			self.last_inserted = None
			try:
				for line, cells in cursor.take(chunk.first_row, chunk.row_count):
					error = self.import_row(cells)
					if error:
						failures.append((line, error))
					else:
						success += 1
				self.record_chunk(chunk, success, failures)
			except Exception as e:
				# contention on the chunk's own records too (its row, the log's counters)
				if not isinstance(e, ChunkRolledBack) and not (transaction_lost(e) or lock_wait_timeout(e)):
					raise
				frappe.db.rollback()
				attempts = cint(chunk.attempts) + 1
				if attempts >= CHUNK_ATTEMPTS:
					raise (e.__cause__ or e) if isinstance(e, ChunkRolledBack) else e
				time.sleep(0.2 * attempts)
				chunk = self.claim_chunk(chunk.name)
				if not chunk:
					return False
				frappe.db.set_value(CHUNK_DOCTYPE, chunk.name, "attempts", attempts, update_modified=False)
				chunk.attempts = attempts
				continue
			frappe.db.commit()
			self.publish_progress()
			return True

	def record_chunk(self, chunk, success: int, failures: list[tuple[int, str]]):
		"""The chunk's outcome, in its transaction: Done, its failed rows, the log's counters."""
		self.insert_failed_rows(failures)
		frappe.db.set_value(
			CHUNK_DOCTYPE,
			chunk.name,
			{"status": "Done", "success_count": success, "error_count": len(failures)},
			update_modified=False,
		)
		# one statement adds to the counters: the other jobs' chunks add theirs (the row lock is
		# held from here to the commit, which follows at once)
		frappe.db.sql(
			f"""update `tab{LOG_DOCTYPE}` set processed_rows = processed_rows + %(processed)s,
				success_count = success_count + %(success)s, error_count = error_count + %(errors)s
			where name = %(name)s""",
			{
				"processed": success + len(failures),
				"success": success,
				"errors": len(failures),
				"name": self.log.name,
			},
		)
		if self.last_inserted:
			# for the chunk's new rows, what notify_update would send: open list views refresh
			frappe.publish_realtime(
				"list_update",
				{"doctype": self.doctype, "name": self.last_inserted, "user": frappe.session.user},
				after_commit=True,
			)
		self.last_inserted = None

	def publish_progress(self):
		counts = frappe.db.get_value(
			LOG_DOCTYPE, self.log.name, ["total_rows", "processed_rows"], as_dict=True
		)
		total, done = cint(counts.total_rows), cint(counts.processed_rows)
		frappe.publish_progress(
			100 if not total else min(100, int(done * 100 / total)),
			title=self.title,
			doctype=LOG_DOCTYPE,
			docname=self.log.name,
			description=_("{0} of {1}").format(done, total),
		)
		publish_doc_update(LOG_DOCTYPE, self.log.name)

	# failed rows again, in file order on this job
	def retry_failed_rows(self) -> dict:
		failed = {
			row.row_number: row.name
			for row in frappe.get_all(
				FAILED_ROW_DOCTYPE,
				filters={"parent": self.log.name, "parenttype": LOG_DOCTYPE},
				fields=["name", "row_number"],
			)
		}
		progress = Progress(
			len(failed),
			self.title,
			doctype=LOG_DOCTYPE,
			docname=self.log.name,
			every=self.batch_size,
			on_publish=self.checkpoint,
		)
		done = 0
		for line, cells in self.data_rows():
			if line not in failed:
				continue
			error = self.import_row(cells)
			if error:
				frappe.db.set_value(FAILED_ROW_DOCTYPE, failed[line], "error", error, update_modified=False)
			else:
				frappe.db.delete(FAILED_ROW_DOCTYPE, {"name": failed[line]})
				self.success += 1
				self.errors -= 1
			done += 1
			progress.update(done)
		self.checkpoint()
		return {
			"status": "Success" if not self.errors else "Completed with Errors",
			"success": self.success,
			"errors": self.errors,
		}

	def checkpoint(self, _done=None):
		"""Commit the retried rows with the counters (retry_failed_rows runs on one job)."""
		update_log(self.log.name, success_count=self.success, error_count=self.errors)
		frappe.db.commit()

	# one row
	def import_row(self, cells: list[str]) -> str | None:
		"""Import one row in its own savepoint; the error message if it failed (rolled back).

		A lock wait timeout undoes only the statement that waited: the row is rolled back to its
		savepoint and tried again. A deadlock has undone the whole transaction: ChunkRolledBack."""
		for attempt in range(1, ROW_LOCK_ATTEMPTS + 1):
			try:
				# no RELEASE: the next row's SAVEPOINT of the same name replaces this one (a round trip less)
				with isolated(ROW_SAVEPOINT, release=False, raise_lock_timeouts=True) as unit:
					if len(cells) > len(self.columns):
						frappe.throw(_("The row has more cells than the header has columns"))
					values = {
						column: cell_value(cell) for column, cell in zip(self.columns, cells, strict=False)
					}
					self.save_row(values)
			except Exception as e:
				frappe.clear_messages()
				if transaction_lost(e):
					raise ChunkRolledBack from e
				if not lock_wait_timeout(e):
					raise
				if attempt == ROW_LOCK_ATTEMPTS:
					raise ChunkRolledBack from e
				frappe.db.rollback(save_point=ROW_SAVEPOINT)
				time.sleep(0.1 * attempt)
				continue
			break
		frappe.clear_messages()
		if not unit.failed:
			return None
		message = message_text(str(unit.error)).strip() or unit.error.__class__.__name__
		return message[:MAX_ERROR_LENGTH]

	def save_row(self, values: dict):
		"""Update the record named in `name` / `id` (with update_existing), else insert one.

		Runs as the user who started the import: insert checks create and save checks write
		permission. Blank cells leave a field as it is (update) or to its default (insert)."""
		identifiers = [values.pop(column, None) for column in IDENTIFIER_COLUMNS]
		identifier = next((value for value in identifiers if value), None)
		values = {field: value for field, value in values.items() if value is not None}
		if self.update_existing and identifier:
			doc = self.existing_doc(identifier)
			if doc:
				doc.update(values)
				doc.save()
				return
		doc = frappe.get_doc({"doctype": self.doctype, **values})
		# A new record is on no one's open form: instead of two realtime events per row at commit,
		# record_chunk() sends one list refresh per committed chunk.
		doc.flags.notify_update = False
		# a given name is kept instead of the DocType's naming rule (and checked by validate_name);
		# unlike frappe.flags.in_import this keeps the Select and default checks of every row
		doc.insert(set_name=identifier)
		self.last_inserted = doc.name

	def existing_doc(self, identifier: str):
		"""The record to update, or None; one query (the database's own name matching) per row."""
		try:
			return frappe.get_doc(self.doctype, identifier)
		except frappe.DoesNotExistError:
			frappe.clear_messages()
			return None

	def insert_failed_rows(self, failures: list[tuple[int, str]]):
		for line, error in failures:
			frappe.get_doc(
				{
					"doctype": FAILED_ROW_DOCTYPE,
					"parent": self.log.name,
					"parenttype": LOG_DOCTYPE,
					"parentfield": "failed_rows",
					"idx": line,
					"row_number": line,
					"error": error,
				}
			).db_insert()


def message_text(message: str) -> str:
	"""A Frappe message as plain text: markup (bold, links) removed, entities decoded, and a lone
	`<` or `>` kept ("Name cannot contain special characters like '<', '>'"), which a regex strip loses."""
	from bs4 import BeautifulSoup

	return BeautifulSoup(message, "html.parser").get_text()


def update_log(name: str, **values):
	frappe.db.set_value(LOG_DOCTYPE, name, values, update_modified=False)


# the job's callbacks (workflow 7): RQ calls them without site context, job_site_callback opens it
@releases_claim_on_success
@job_site_callback
def on_import_success(job, connection, result, *args, **kwargs):
	"""RQ on_success of the import job: the final status from the job's result, then notify."""
	import_log_name = job.kwargs["kwargs"]["import_log_name"]
	result = result or {}
	if result.get("status") == "Error":
		finish_import(import_log_name, "Error", result.get("error"))
	else:
		errors = cint(frappe.db.get_value(LOG_DOCTYPE, import_log_name, "error_count"))
		finish_import(import_log_name, "Completed with Errors" if errors else "Success")


@releases_claim_on_failure
@job_site_callback
def on_import_failure(job, connection, exc_type, exc_value, tb):
	"""RQ on_failure of the import job (an exception, a timeout or a killed worker): status Error,
	notify. Rows committed before the failure stay; the next start resumes after them."""
	from rq.exceptions import AbandonedJobError

	import_log_name = job.kwargs["kwargs"]["import_log_name"]
	if issubclass(exc_type, AbandonedJobError):
		# no traceback anywhere else: execute_job logs only what the job itself raised
		message = _("The worker running this import stopped. Start Import resumes after the last saved row.")
		frappe.log_error(
			title=_("CSV Import {0}: worker stopped").format(import_log_name),
			message=message,
			reference_doctype=LOG_DOCTYPE,
			reference_name=import_log_name,
		)
	else:
		# execute_job has logged the traceback (titled with the job's method): one Error Log per failure
		message = message_text(str(exc_value)).strip() or exc_type.__name__
	finish_import(import_log_name, "Error", message[:MAX_ERROR_LENGTH])


def finish_import(import_log_name: str, status: str, error_message: str | None = None):
	values = {"status": status, "finished_at": now_datetime()}
	if error_message:
		values["error_message"] = error_message
	update_log(import_log_name, **values)
	if status in FINISHED_STATUSES:
		# every chunk is done: their resume positions are no longer needed
		frappe.db.delete(CHUNK_DOCTYPE, {"import_log": import_log_name})
	publish_doc_update(LOG_DOCTYPE, import_log_name)
	notify_import_finished(import_log_name)


def notify_import_finished(import_log_name: str):
	log = frappe.get_doc(LOG_DOCTYPE, import_log_name)
	user = log.started_by or log.owner
	indicator = {"Success": "green", "Completed with Errors": "orange"}.get(log.status, "red")
	if log.status == "Error":
		summary = _("Import into {0} failed: {1}").format(
			_(log.reference_doctype), frappe.utils.escape_html(log.error_message or "")
		)
	else:
		summary = _("Import into {0} finished: {1} imported, {2} failed.").format(
			_(log.reference_doctype), log.success_count, log.error_count
		)
	link = f"<a href='{get_url_to_form(LOG_DOCTYPE, log.name)}'>{_('View CSV Import Log')}</a>"
	notify_user(user, f"{summary} {link}", indicator, title=_("CSV Import"))
	recipients = email_addresses([user])
	if recipients:
		frappe.sendmail(
			recipients=recipients,
			subject=_("Import into {0}: {1}").format(_(log.reference_doctype), _(log.status)),
			template="import_finished",
			args={
				"import_log": log.name,
				"status": _(log.status),
				"reference_doctype": _(log.reference_doctype),
				"total_rows": log.total_rows,
				"success_count": log.success_count,
				"error_count": log.error_count,
				"error_message": log.error_message if log.status == "Error" else None,
				"log_url": get_url_to_form(LOG_DOCTYPE, log.name),
			},
			reference_doctype=LOG_DOCTYPE,
			reference_name=log.name,
		)


# failed rows as a file
def failed_rows_file(import_log_name: str):
	"""A private CSV of the failed rows as they were in the file, plus an Error column, attached
	to the log. To import it again once fixed, remove the Error column."""
	from myapp.utils.csvfile import PrivateCSVFile

	log = frappe.get_doc(LOG_DOCTYPE, import_log_name)
	log.check_permission("read")
	errors = {row.row_number: row.error for row in log.failed_rows}
	if not errors:
		frappe.throw(_("There are no failed rows"))
	path = get_import_file(log.import_file).get_full_path()
	with PrivateCSVFile(f"{log.reference_doctype} failed rows.csv", LOG_DOCTYPE, log.name) as out:
		rows = read_rows(path)
		_line, header = next(rows)
		out.writerow([*header, _("Error")])
		for line, cells in rows:
			if line in errors:
				out.writerow([*cells, _("Line {0}: {1}").format(line, errors[line])])
		return out.save()
