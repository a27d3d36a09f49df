"""Example 3 + workflow 7: CSV import into any DocType, with progress, resume and callbacks.

A CSV Import Log holds the file, the target DocType and the counters. The job
(`run_csv_import`) streams the file twice: a first pass checks the encoding and the header and
counts the rows before anything is written; the second imports each row in its own savepoint,
so a bad row is rolled back alone and recorded with its CSV line number. Every `batch_size`
rows (counted over all rows, good or bad) and on the last, the rows, the failed-row records
and the counters are committed together: a worker killed in the middle loses only the
uncommitted batch, and the next start resumes after the last committed row.

The job's RQ callbacks (`on_import_success` / `on_import_failure`, hooked up as
`myapp.tasks.*`) set the final status and notify the user. They run outside any site
context, as every RQ callback in Frappe does, so they open the job's site themselves.
"""

import csv

import frappe
from frappe import _
from frappe.model import CORE_DOCTYPES, data_fieldtypes
from frappe.utils import cint, get_url_to_form, now_datetime

from myapp.utils.csvfile import FORMULA_TRIGGERS
from myapp.utils.jobs import enqueue_once, job_site_callback
from myapp.utils.notify import email_addresses, notify_user
from myapp.utils.permissions import permlevels
from myapp.utils.progress import Progress, publish_doc_update
from myapp.utils.savepoint import isolated

LOG_DOCTYPE = "CSV Import Log"
FAILED_ROW_DOCTYPE = "CSV Import Log Failed Row"
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
		frappe.throw(_("Attach a CSV file to import"), frappe.MandatoryError)
	name = frappe.db.get_value("File", {"file_url": file_url}, "name")
	if not name:
		frappe.throw(_("File {0} not found").format(file_url), frappe.DoesNotExistError)
	file = frappe.get_doc("File", name)
	frappe.has_permission("File", "read", doc=file, throw=True)
	if not file.file_name.lower().endswith(".csv"):
		frappe.throw(_("Only CSV files can be imported"), ImportFileError)
	return file


def create_import_log(file_url: str, doctype: str, update_existing=False, batch_size=None):
	check_import_permission(doctype, cint(update_existing))
	get_import_file(file_url)
	log = frappe.get_doc(
		{
			"doctype": LOG_DOCTYPE,
			"import_file": file_url,
			"reference_doctype": doctype,
			"update_existing": cint(update_existing),
			"batch_size": cint(batch_size) or DEFAULT_BATCH_SIZE,
		}
	)
	log.insert(ignore_permissions=True)
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
	"""The import job (`myapp.importer.run_csv_import`), as the user who started it."""
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
	update_log(log.name, total_rows=total)
	frappe.db.commit()
	return importer.run(total)


def scan_file(path: str) -> tuple[list[str], int]:
	"""The header and the number of data rows; a clear ImportFileError if the file cannot be read.

	Streams the whole file once, so a non-UTF-8 byte anywhere is found before any row is written."""
	header, total = None, 0
	try:
		for _line, row in read_csv(path):
			if header is None:
				header = [cell.strip() for cell in row]
			else:
				total += 1
	except UnicodeDecodeError as e:
		frappe.throw(
			_(
				"The file is not UTF-8 encoded (byte {0} cannot be read). Save it as CSV UTF-8 and upload it again."
			).format(e.start),
			ImportFileError,
		)
	except csv.Error as e:
		frappe.throw(_("The file is not a valid CSV file: {0}").format(e), ImportFileError)
	if header is None:
		frappe.throw(_("The file is empty"), ImportFileError)
	if not total:
		frappe.throw(_("The file has a header but no data rows"), ImportFileError)
	return header, total


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


class RowImporter:
	def __init__(self, log, columns: list[str], path: str):
		self.log = log
		self.doctype = log.reference_doctype
		self.update_existing = cint(log.update_existing)
		self.columns = columns
		self.path = path
		self.batch_size = max(1, cint(log.batch_size) or DEFAULT_BATCH_SIZE)
		self.processed = cint(log.processed_rows)
		self.success = cint(log.success_count)
		self.errors = cint(log.error_count)
		self.new_failures: list[tuple[int, str]] = []
		self.last_inserted = None
		self.title = _("Importing {0}").format(_(self.doctype))

	def data_rows(self):
		rows = read_csv(self.path)
		next(rows)  # header
		return rows

	def run(self, total: int) -> dict:
		resume_after = self.processed
		progress = Progress(
			total,
			self.title,
			doctype=LOG_DOCTYPE,
			docname=self.log.name,
			every=self.batch_size,
			on_publish=self.checkpoint,
		)
		for index, (line, cells) in enumerate(self.data_rows(), start=1):
			if index <= resume_after:
				continue
			error = self.import_row(cells)
			if error:
				self.errors += 1
				self.new_failures.append((line, error))
			else:
				self.success += 1
			self.processed = index
			progress.update(index)
		return self.result()

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
		return self.result()

	def import_row(self, cells: list[str]) -> str | None:
		"""Import one row in its own savepoint; the error message if it failed (rolled back)."""
		# no RELEASE: the next row's SAVEPOINT of the same name replaces this one (a round trip less)
		with isolated(ROW_SAVEPOINT, release=False) as unit:
			if len(cells) > len(self.columns):
				frappe.throw(_("The row has more cells than the header has columns"))
			values = {column: cell_value(cell) for column, cell in zip(self.columns, cells, strict=False)}
			self.save_row(values)
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
		# checkpoint() sends one list refresh per committed batch.
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

	def checkpoint(self, _done=None):
		"""Record new failures and the counters, and commit them with the rows imported so far."""
		if self.last_inserted:
			# for the batch's new rows, what notify_update would send: open list views refresh
			frappe.publish_realtime(
				"list_update",
				{"doctype": self.doctype, "name": self.last_inserted, "user": frappe.session.user},
				after_commit=True,
			)
		self.last_inserted = None
		for line, error in self.new_failures:
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
		self.new_failures = []
		update_log(
			self.log.name, processed_rows=self.processed, success_count=self.success, error_count=self.errors
		)
		frappe.db.commit()

	def result(self) -> dict:
		self.checkpoint()
		return {
			"status": "Success" if not self.errors else "Completed with Errors",
			"success": self.success,
			"errors": self.errors,
		}


def message_text(message: str) -> str:
	"""A Frappe message as plain text: markup (bold, links) removed, entities decoded, and a lone
	`<` or `>` kept ("Name cannot contain special characters like '<', '>'"), which a regex strip loses."""
	from bs4 import BeautifulSoup

	return BeautifulSoup(message, "html.parser").get_text()


def update_log(name: str, **values):
	frappe.db.set_value(LOG_DOCTYPE, name, values, update_modified=False)


# the job's callbacks (workflow 7): RQ calls them without site context, job_site_callback opens it
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
		rows = read_csv(path)
		_line, header = next(rows)
		out.writerow([*header, _("Error")])
		for line, cells in rows:
			if line in errors:
				out.writerow([*cells, _("Line {0}: {1}").format(line, errors[line])])
		return out.save()
