# Testbed: Password fields as in Frappe v15 (frappe/utils/password.py): values encrypted with
# Fernet and the site's `encryption_key`, stored in `__Auth` (doctype, name, fieldname,
# password, encrypted); the document keeps "*" * len(password) in its own column.

from cryptography.fernet import Fernet, InvalidToken

import frappe
from frappe import _
from frappe.utils import cstr, encode


def get_decrypted_password(doctype, name, fieldname="password", raise_exception=True):
	result = frappe.db.sql(
		"""select `password` from `__Auth`
		where `doctype`=%s and `name`=%s and `fieldname`=%s and `encrypted`=1
		limit 1""",
		(doctype, name, fieldname),
	)

	if result and result[0][0]:
		return decrypt(result[0][0], key=f"{doctype}.{name}.{fieldname}")

	elif raise_exception:
		frappe.throw(
			_("Password not found for {0} {1} {2}").format(doctype, name, fieldname),
			frappe.AuthenticationError,
		)


def set_encrypted_password(doctype, name, pwd, fieldname="password"):
	try:
		frappe.db.sql(
			"""insert into `__Auth` (`doctype`, `name`, `fieldname`, `password`, `encrypted`)
			values (%s, %s, %s, %s, 1)
			on duplicate key update `password`=values(`password`)""",
			(doctype, name, fieldname, encrypt(pwd)),
		)
	except Exception as e:
		data_error = getattr(frappe.db, "DataError", None)
		if data_error and isinstance(e, data_error):
			is_too_long = getattr(frappe.db, "is_data_too_long", None)
			if is_too_long and is_too_long(e):
				frappe.throw(_("Most probably your password is too long."), exc=e)
		raise


def remove_encrypted_password(doctype, name, fieldname="password"):
	frappe.db.sql(
		"delete from `__Auth` where `doctype`=%s and `name`=%s and `fieldname`=%s",
		(doctype, name, fieldname),
	)


def delete_all_passwords_for(doctype, name):
	frappe.db.sql("delete from `__Auth` where `doctype`=%s and `name`=%s", (doctype, name))


def rename_password(doctype, old_name, new_name):
	# NOTE: fieldname is not considered, since the document is renamed
	frappe.db.sql(
		"update `__Auth` set `name`=%s where `doctype`=%s and `name`=%s",
		(new_name, doctype, old_name),
	)


def rename_password_field(doctype, old_fieldname, new_fieldname):
	frappe.db.sql(
		"update `__Auth` set `fieldname`=%s where `doctype`=%s and `fieldname`=%s",
		(new_fieldname, doctype, old_fieldname),
	)


def create_auth_table():
	"""Create `__Auth` as Frappe's Database.create_auth_table does (DDL: commits implicitly)."""
	if hasattr(frappe.db, "create_auth_table"):
		return frappe.db.create_auth_table()
	frappe.db.sql(
		"""create table if not exists `__Auth` (
			`doctype` VARCHAR(140) NOT NULL,
			`name` VARCHAR(255) NOT NULL,
			`fieldname` VARCHAR(140) NOT NULL,
			`password` TEXT NOT NULL,
			`encrypted` INT(1) NOT NULL DEFAULT 0,
			PRIMARY KEY (`doctype`, `name`, `fieldname`)
		) ENGINE=InnoDB ROW_FORMAT=DYNAMIC CHARACTER SET=utf8mb4 COLLATE=utf8mb4_unicode_ci"""
	)


def encrypt(txt, encryption_key=None):
	# Only use Fernet.generate_key().decode() to enter encyption_key value
	try:
		cipher_suite = Fernet(encode(encryption_key or get_encryption_key()))
	except Exception:
		# encryption_key is not in 32 url-safe base64-encoded format
		frappe.throw(_("Encryption key is in invalid format!"))

	return cstr(cipher_suite.encrypt(encode(txt)))


def decrypt(txt, encryption_key=None, key: str | None = None):
	# Only use encryption_key value generated with Fernet.generate_key().decode()
	try:
		cipher_suite = Fernet(encode(encryption_key or get_encryption_key()))
		return cstr(cipher_suite.decrypt(encode(txt)))
	except InvalidToken:
		# encryption_key in site_config is changed and not valid
		frappe.throw(
			(_("Failed to decrypt key {0}").format(key) + "<br><br>" if key else "")
			+ _("Encryption key is invalid! Please check site_config.json")
		)


def get_encryption_key():
	if "encryption_key" not in frappe.local.conf:
		encryption_key = Fernet.generate_key().decode()
		try:
			from frappe.installer import update_site_config
		except ImportError:
			update_site_config = None
		if update_site_config:
			update_site_config("encryption_key", encryption_key)
		frappe.local.conf.encryption_key = encryption_key

	return frappe.local.conf.encryption_key
