"""`frappe.db`: a MariaDB connection with Frappe v15's transaction and query semantics."""

import datetime
import random
import string
from contextlib import contextmanager

import pymysql
from pymysql.constants import ER, FIELD_TYPE
from pymysql.converters import conversions, escape_string

import frappe
from frappe.utils import CallbackManager, get_datetime

SQL_ITERATOR_BATCH_SIZE = 100
VARCHAR_LEN = 140

# Frappe v15's MariaDB column types per fieldtype (frappe/database/mariadb/database.py)
TYPE_MAP = {
	"Currency": "decimal(21,9)",
	"Int": "int(11)",
	"Long Int": "bigint(20)",
	"Float": "decimal(21,9)",
	"Percent": "decimal(21,9)",
	"Check": "int(1)",
	"Small Text": "text",
	"Long Text": "longtext",
	"Code": "longtext",
	"Text Editor": "longtext",
	"Markdown Editor": "longtext",
	"HTML Editor": "longtext",
	"Date": "date",
	"Datetime": "datetime(6)",
	"Time": "time(6)",
	"Text": "text",
	"Data": f"varchar({VARCHAR_LEN})",
	"Link": f"varchar({VARCHAR_LEN})",
	"Dynamic Link": f"varchar({VARCHAR_LEN})",
	"Password": "text",
	"Select": f"varchar({VARCHAR_LEN})",
	"Rating": "decimal(3,2)",
	"Read Only": f"varchar({VARCHAR_LEN})",
	"Attach": "text",
	"Attach Image": "text",
	"Signature": "longtext",
	"Color": f"varchar({VARCHAR_LEN})",
	"Barcode": "longtext",
	"Geolocation": "longtext",
	"Duration": "decimal(21,9)",
	"Icon": f"varchar({VARCHAR_LEN})",
	"Phone": f"varchar({VARCHAR_LEN})",
	"Autocomplete": f"varchar({VARCHAR_LEN})",
	"JSON": "json",
}


class Database:
	"""One connection per `frappe.connect()`; autocommit off, explicit transactions as in Frappe."""

	InternalError = pymysql.err.InternalError
	OperationalError = pymysql.err.OperationalError
	ProgrammingError = pymysql.err.ProgrammingError
	IntegrityError = pymysql.err.IntegrityError
	DataError = pymysql.err.DataError
	SQLError = pymysql.err.ProgrammingError
	CONVERSION_MAP = conversions | {
		FIELD_TYPE.NEWDECIMAL: float,
		FIELD_TYPE.DATETIME: get_datetime,
	}
	db_type = "mariadb"
	type_map = TYPE_MAP

	def __init__(self, host=None, user=None, password=None, port=None, cur_db_name=None, socket=None):
		self.host = host
		self.user = user
		self.password = password
		self.port = port
		self.socket = socket
		self.cur_db_name = cur_db_name
		self._conn = None
		self._cursor = None
		self.transaction_writes = 0
		self.value_cache = {}
		self.before_commit = CallbackManager()
		self.after_commit = CallbackManager()
		self.before_rollback = CallbackManager()
		self.after_rollback = CallbackManager()

	# connection
	def connect(self):
		settings = {"user": self.user, "conv": self.CONVERSION_MAP, "charset": "utf8mb4", "use_unicode": True}
		if self.cur_db_name:
			settings["database"] = self.cur_db_name
		if self.socket:
			settings["unix_socket"] = self.socket
		else:
			settings["host"] = self.host or "127.0.0.1"
			settings["port"] = int(self.port or 3306)
		if self.password:
			settings["password"] = self.password
		self._conn = pymysql.connect(**settings)
		self._cursor = self._conn.cursor()
		self.begin()

	def use(self, db_name):
		self._conn.select_db(db_name)
		self.cur_db_name = db_name

	def close(self):
		if self._conn:
			self._cursor.close()
			self._conn.close()
			self._cursor = None
			self._conn = None

	# queries
	def sql(
		self,
		query,
		values=(),
		*,
		as_dict=0,
		as_list=0,
		debug=0,
		ignore_ddl=0,
		auto_commit=0,
		update=None,
		explain=False,
		run=True,
		pluck=False,
		as_iterator=False,
	):
		query = str(query).strip()
		if not run:
			return query
		if not self._conn:
			self.connect()
		if auto_commit:
			self.commit()

		if values == ():
			values = None
		elif not isinstance(values, tuple | dict | list):
			values = (values,)

		try:
			self._cursor.execute(query, values)
		except Exception as e:
			if self.is_deadlocked(e):
				raise frappe.QueryDeadlockError(e) from e
			if self.is_timedout(e):
				raise frappe.QueryTimeoutError(e) from e
			if not (ignore_ddl and (self.is_missing_column(e) or self.is_table_missing(e))):
				raise

		if debug:
			frappe.log(self._cursor._executed)
		if self._is_write(query):
			self.transaction_writes += 1
		if auto_commit:
			self.commit()

		if not self._cursor.description:
			return ()
		if as_iterator:
			return self._return_as_iterator(pluck=pluck, as_dict=as_dict, as_list=as_list, update=update)

		result = self._cursor.fetchall()
		if pluck:
			return [r[0] for r in result]
		if as_dict:
			keys = [c[0] for c in self._cursor.description]
			result = [frappe._dict(zip(keys, row, strict=False)) for row in result]
			if update:
				for row in result:
					row.update(update)
			return result
		if as_list:
			return [list(r) for r in result]
		return result

	def _return_as_iterator(self, *, pluck, as_dict, as_list, update):
		keys = [c[0] for c in self._cursor.description]
		while rows := self._cursor.fetchmany(SQL_ITERATOR_BATCH_SIZE):
			for row in rows:
				if pluck:
					yield row[0]
				elif as_dict:
					row = frappe._dict(zip(keys, row, strict=False))
					if update:
						row.update(update)
					yield row
				elif as_list:
					yield list(row)
				else:
					frappe.throw(frappe._("`as_iterator` only works with `as_list=True` or `as_dict=True`"))

	@staticmethod
	def _is_write(query):
		return query[:6].lower() in ("insert", "update", "delete", "replac")

	def sql_list(self, query, values=(), debug=False, **kwargs):
		return [r[0] for r in self.sql(query, values, debug=debug, **kwargs)]

	def sql_ddl(self, query, debug=False):
		self.commit()
		self.sql(query, debug=debug)

	@contextmanager
	def unbuffered_cursor(self):
		from pymysql.cursors import SSCursor

		if not self._conn:
			self.connect()
		original_cursor = self._cursor
		new_cursor = self._cursor = self._conn.cursor(SSCursor)
		try:
			yield
		finally:
			self._cursor = original_cursor
			new_cursor.close()

	def mogrify(self, query, values):
		if not self._conn:
			self.connect()
		return self._cursor.mogrify(query, values)

	@staticmethod
	def escape(s, percent=True):
		s = escape_string(str(s))
		if percent:
			s = s.replace("%", "%%")
		return "'" + s + "'"

	# transactions
	def begin(self, *, read_only=False):
		self.sql("START TRANSACTION READ ONLY" if read_only else "START TRANSACTION")

	def commit(self):
		self.before_rollback.reset()
		self.after_rollback.reset()
		self.before_commit.run()
		self.sql("commit")
		self.transaction_writes = 0
		self.begin()
		self.after_commit.run()

	def rollback(self, *, save_point=None):
		if save_point:
			self.sql(f"rollback to savepoint {save_point}")
			return
		self.before_commit.reset()
		self.after_commit.reset()
		self.before_rollback.run()
		self.sql("rollback")
		self.transaction_writes = 0
		self.begin()
		self.after_rollback.run()

	def savepoint(self, save_point):
		self.sql(f"savepoint {save_point}")

	def release_savepoint(self, save_point):
		self.sql(f"release savepoint {save_point}")

	# errors (frappe/database/mariadb/database.py MariaDBExceptionUtil)
	@staticmethod
	def _code(e):
		return e.args[0] if getattr(e, "args", None) else None

	@classmethod
	def is_deadlocked(cls, e):
		return cls._code(e) == ER.LOCK_DEADLOCK

	@classmethod
	def is_timedout(cls, e):
		return cls._code(e) == ER.LOCK_WAIT_TIMEOUT

	@classmethod
	def is_table_missing(cls, e):
		return cls._code(e) == ER.NO_SUCH_TABLE

	is_missing_table = is_table_missing

	@classmethod
	def is_missing_column(cls, e):
		return cls._code(e) == ER.BAD_FIELD_ERROR

	@classmethod
	def is_duplicate_entry(cls, e):
		return cls._code(e) == ER.DUP_ENTRY

	@classmethod
	def is_primary_key_violation(cls, e):
		return cls.is_duplicate_entry(e) and "PRIMARY" in str(e.args[1])

	@classmethod
	def is_unique_key_violation(cls, e):
		return cls.is_duplicate_entry(e) and "PRIMARY" not in str(e.args[1])

	@classmethod
	def is_data_too_long(cls, e):
		return cls._code(e) == ER.DATA_TOO_LONG

	# metadata
	def get_tables(self, cached=True):
		return set(self.sql_list("show tables"))

	def table_exists(self, doctype, cached=True):
		return f"tab{doctype}" in self.get_tables()

	def has_table(self, doctype):
		return self.table_exists(doctype)

	def get_db_table_columns(self, table):
		return [r[0] for r in self.sql(f"show columns from `{table}`")]

	def get_table_columns(self, doctype):
		if not self.table_exists(doctype):
			raise self.TableMissingError("DocType", doctype)
		return self.get_db_table_columns(f"tab{doctype}")

	def has_column(self, doctype, column):
		return column in self.get_table_columns(doctype)

	class TableMissingError(pymysql.err.ProgrammingError):
		def __init__(self, doctype, name):
			super().__init__(ER.NO_SUCH_TABLE, f"Table 'tab{name}' doesn't exist")

	def has_index(self, table_name, index_name):
		return bool(self.sql(f"show index from `{table_name}` where Key_name=%s", index_name))

	def add_index(self, doctype, fields, index_name=None):
		index_name = index_name or self.get_index_name(fields)
		table = f"tab{doctype}"
		if not self.has_index(table, index_name):
			self.commit()
			self.sql(f"alter table `{table}` add index `{index_name}`({', '.join(fields)})")

	def add_unique(self, doctype, fields, constraint_name=None):
		if isinstance(fields, str):
			fields = [fields]
		constraint_name = constraint_name or "unique_" + "_".join(fields)
		if not self.has_index(f"tab{doctype}", constraint_name):
			self.commit()
			self.sql(
				f"alter table `tab{doctype}` add unique `{constraint_name}`({', '.join(f'`{f}`' for f in fields)})"
			)

	@staticmethod
	def get_index_name(fields):
		index_name = "_".join(fields) + "_index"
		return index_name.replace("`", "").replace("(", "_").replace(")", "")

	# the ORM-ish helpers, built on frappe.model.db_query's filter compiler
	def get_value(
		self,
		doctype,
		filters=None,
		fieldname="name",
		ignore=None,
		as_dict=False,
		debug=False,
		order_by="KEEP_DEFAULT_ORDERING",
		cache=False,
		for_update=False,
		*,
		run=True,
		pluck=False,
		distinct=False,
		skip_locked=False,
		wait=True,
	):
		result = self.get_values(
			doctype,
			filters,
			fieldname,
			ignore,
			as_dict,
			debug,
			order_by,
			for_update=for_update,
			pluck=pluck,
			distinct=distinct,
			limit=1,
			skip_locked=skip_locked,
			wait=wait,
		)
		if not result:
			return None
		row = result[0]
		if pluck:
			return row
		if len(row) > 1 or as_dict:
			return row
		return row[0]

	def get_values(
		self,
		doctype,
		filters=None,
		fieldname="name",
		ignore=None,
		as_dict=False,
		debug=False,
		order_by="KEEP_DEFAULT_ORDERING",
		update=None,
		cache=False,
		for_update=False,
		*,
		run=True,
		pluck=False,
		distinct=False,
		limit=None,
		skip_locked=False,
		wait=True,
	):
		from frappe.model.meta import is_single

		fields = [fieldname] if isinstance(fieldname, str) else list(fieldname)
		if doctype == "DocType":
			return self._get_doctype_values(filters, fields, as_dict)
		if filters is None or filters == doctype or is_single(doctype):
			if is_single(doctype):
				values = self.get_singles_dict(doctype)
				if fields == ["*"]:
					return [values] if as_dict else [tuple(values.values())]
				row = [values.get(f) for f in fields]
				return [frappe._dict(zip(fields, row, strict=False))] if as_dict else [tuple(row)]
			if filters is None:
				return []

		if isinstance(filters, str | int) and not isinstance(filters, bool):
			filters = {"name": filters}
		try:
			return frappe.get_all(
				doctype,
				filters=filters,
				fields=fields,
				order_by=None if order_by in (None, "KEEP_DEFAULT_ORDERING") else order_by,
				limit=limit,
				as_list=not as_dict,
				distinct=distinct,
				for_update=for_update,
				skip_locked=skip_locked,
				wait=wait,
				update=update,
				debug=debug,
				pluck=pluck,
			)
		except Exception as e:
			if ignore and (self.is_missing_column(e) or self.is_table_missing(e)):
				return []
			raise

	@staticmethod
	def _get_doctype_values(filters, fields, as_dict):
		"""`tabDocType` stand-in: DocType rows come from the installed apps' JSON (see model/meta.py)."""
		from frappe.model.meta import doctype_json_index, get_meta

		names = (
			[filters]
			if isinstance(filters, str)
			else [filters.get("name")]
			if isinstance(filters, dict)
			else []
		)
		rows = []
		for name in names:
			if name in doctype_json_index():
				meta = get_meta(name)
				row = frappe._dict(
					name=name,
					module=meta.module,
					issingle=meta.issingle or 0,
					istable=meta.istable or 0,
					custom=0,
				)
				rows.append(
					frappe._dict({f: row.get(f) for f in fields})
					if as_dict
					else tuple(row.get(f) for f in fields)
				)
		return rows

	def get_singles_dict(self, doctype, debug=False, *, for_update=False, cast=False):
		rows = self.sql(
			"select field, value from `tabSingles` where doctype=%s" + (" for update" if for_update else ""),
			doctype,
		)
		values = frappe._dict(rows)
		if cast:
			from frappe.model.meta import cast_values

			values = cast_values(doctype, values)
		return values

	def get_single_value(self, doctype, fieldname, cache=True):
		from frappe.model.meta import cast_values

		value = self.sql("select value from `tabSingles` where doctype=%s and field=%s", (doctype, fieldname))
		value = value[0][0] if value else None
		return cast_values(doctype, {fieldname: value})[fieldname]

	def set_single_value(self, doctype, fieldname, value=None, *args, update_modified=True, **kwargs):
		to_update = fieldname if isinstance(fieldname, dict) else {fieldname: value}
		if update_modified:
			to_update["modified"] = frappe.utils.now()
			to_update["modified_by"] = frappe.session.user
		for field, val in to_update.items():
			self.sql("delete from `tabSingles` where doctype=%s and field=%s", (doctype, field))
			if isinstance(val, datetime.date | datetime.time):
				# v15 writes Singles through pypika, which renders a date or datetime with isoformat()
				# ("2026-03-01T08:04:00", a value Desk's Datetime control misreads)
				val = val.isoformat()
			if val is not None:
				self.sql(
					"insert into `tabSingles` (doctype, field, value) values (%s, %s, %s)",
					(doctype, field, val),
				)

	def set_value(
		self, dt, dn, field, val=None, modified=None, modified_by=None, update_modified=True, debug=False
	):
		from frappe.model.db_query import build_where
		from frappe.model.meta import is_single

		if dn is None or dt == dn:
			if is_single(dt):
				self.set_single_value(dt, field, val, update_modified=update_modified)
			return

		to_update = dict(field) if isinstance(field, dict) else {field: val}
		if update_modified:
			to_update["modified"] = modified or frappe.utils.now()
			to_update["modified_by"] = modified_by or frappe.session.user
		filters = {"name": dn} if isinstance(dn, str | int) else dn
		where, values = build_where(dt, filters)
		assignments = ", ".join(f"`{column}`=%s" for column in to_update)
		self.sql(
			f"update `tab{dt}` set {assignments}{where}",
			tuple(to_update.values()) + tuple(values),
			debug=debug,
		)

	def exists(self, dt, dn=None, cache=False):
		if dt != "DocType" and dt == dn:
			return dn
		if isinstance(dt, dict):
			dt = dt.copy()
			dt, dn = dt.pop("doctype"), dt
		if dn is None:
			return None
		return self.get_value(dt, dn, ignore=True, order_by=None)

	def count(self, dt, filters=None, debug=False, cache=False, distinct=True):
		from frappe.model.db_query import build_where

		where, values = build_where(dt, filters)
		return self.sql(f"select count(*) from `tab{dt}`{where}", tuple(values), debug=debug)[0][0]

	def delete(self, doctype, filters=None, debug=False, **kwargs):
		"""DELETE rows matching filters; no document hooks, returns () like Frappe."""
		from frappe.model.db_query import build_where

		filters = filters or kwargs.get("conditions")
		where, values = build_where(doctype, filters)
		return self.sql(f"delete from `tab{doctype}`{where}", tuple(values), debug=debug)

	def truncate(self, doctype):
		return self.sql_ddl(f"truncate `tab{doctype}`")

	def get_all(self, *args, **kwargs):
		return frappe.get_all(*args, **kwargs)

	def get_list(self, *args, **kwargs):
		return frappe.get_list(*args, **kwargs)

	def bulk_insert(self, doctype, fields, values, ignore_duplicates=False, *, chunk_size=10_000):
		import itertools

		columns = ", ".join(f"`{f}`" for f in fields)
		placeholders = "(" + ", ".join(["%s"] * len(fields)) + ")"
		ignore = " ignore" if ignore_duplicates else ""
		iterator = iter(values)
		while chunk := tuple(itertools.islice(iterator, chunk_size)):
			self.sql(
				f"insert{ignore} into `tab{doctype}` ({columns}) values "
				+ ", ".join([placeholders] * len(chunk)),
				tuple(v for row in chunk for v in row),
			)

	def get_system_setting(self, key):
		return self.get_single_value("System Settings", key)

	def get_default(self, key, parent="__default"):
		return None

	def estimate_count(self, doctype):
		return self.count(doctype)


@contextmanager
def savepoint(catch=Exception):
	"""`with savepoint(catch=...)`: roll back the block alone when it raises `catch`."""
	name = "".join(random.sample(string.ascii_lowercase, 10))
	frappe.db.savepoint(name)
	try:
		yield
	except catch:
		frappe.db.rollback(save_point=name)
	else:
		frappe.db.release_savepoint(name)


def get_db(socket=None, host=None, user=None, password=None, port=None, cur_db_name=None):
	return Database(
		host=host, user=user, password=password, port=port, cur_db_name=cur_db_name, socket=socket
	)
