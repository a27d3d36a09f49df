"""`bench new-site` + `install-app` for the testbed: a database, the tables, standard users and roles."""

import json
import os

import pymysql
from cryptography.fernet import Fernet

import frappe

STANDARD_ROLES = (
	"Administrator", "System Manager", "Guest", "All", "Desk User", "Sales User", "Sales Manager",
	"Sales Master Manager", "Accounts User", "Accounts Manager", "Support Team", "Website Manager",
)  # fmt: skip


def install_site(
	site,
	sites_path,
	apps,
	db_host="127.0.0.1",
	db_port=3306,
	db_user="root",
	db_password="",
	redis_queue=None,
	redis_cache=None,
):  # noqa: E501
	"""Create (or re-create) `site` with `apps` installed, and leave it connected as Administrator."""
	db_name = "_" + "".join(c if c.isalnum() else "_" for c in site)[:60]
	os.makedirs(os.path.join(sites_path, site, "private", "files"), exist_ok=True)
	os.makedirs(os.path.join(sites_path, site, "public", "files"), exist_ok=True)
	os.makedirs(os.path.join(sites_path, "logs"), exist_ok=True)
	common = os.path.join(sites_path, "common_site_config.json")
	common_config = {}
	if os.path.exists(common):
		with open(common) as f:
			common_config = json.load(f)
	if redis_queue:
		common_config["redis_queue"] = redis_queue
		common_config["redis_socketio"] = redis_queue
	if redis_cache:
		common_config["redis_cache"] = redis_cache
	with open(common, "w") as f:
		json.dump(common_config, f, indent=1)
	with open(os.path.join(sites_path, "apps.txt"), "w") as f:
		f.write("\n".join(apps) + "\n")
	with open(os.path.join(sites_path, site, "site_config.json"), "w") as f:
		json.dump(
			{
				"db_name": db_name,
				"db_host": db_host,
				"db_port": int(db_port),
				"db_user": db_user,
				"db_password": db_password,
				"encryption_key": Fernet.generate_key().decode(),
				"installed_apps": list(apps),
				"host_name": f"http://{site}",
				# a test site queues emails and never sends them (`bench set-config mute_emails 1`)
				"mute_emails": 1,
			},
			f,
			indent=1,
		)

	root = pymysql.connect(host=db_host, port=int(db_port), user=db_user, password=db_password or "")
	with root.cursor() as cursor:
		cursor.execute(f"drop database if exists `{db_name}`")
		cursor.execute(f"create database `{db_name}` character set utf8mb4 collate utf8mb4_unicode_ci")
	root.close()

	if getattr(frappe.local, "initialised", None):
		frappe.destroy()
	frappe.init(site, sites_path=sites_path, force=True)
	frappe.connect()
	frappe.flags.in_install = True
	try:
		create_system_tables()
		from frappe.migrate import sync_all_tables

		sync_all_tables()
		install_standard_records()
		from frappe.core.doctype.file.utils import make_home_folder

		make_home_folder()
		frappe.db.commit()
		for app in apps:
			frappe.flags.in_install = app
			for fn in frappe.get_hooks("after_install", app_name=app):
				frappe.get_attr(fn)()
			frappe.db.commit()
	finally:
		frappe.flags.in_install = False

	from frappe.migrate import migrate

	migrate()
	return db_name


def create_system_tables():
	frappe.db.sql_ddl(
		"""create table if not exists `tabSingles` (
			doctype varchar(255), field varchar(255), value text,
			index singles_doctype_field_index(doctype, field)
		) engine=InnoDB character set=utf8mb4 collate=utf8mb4_unicode_ci"""
	)
	frappe.db.sql_ddl(
		"""create table if not exists `tabSeries` (
			name varchar(100) primary key, current int not null default 0
		) engine=InnoDB character set=utf8mb4 collate=utf8mb4_unicode_ci"""
	)
	from frappe.utils.password import create_auth_table

	create_auth_table()


def _roles_of_doctype_permissions():
	"""The roles the installed DocTypes' permissions name (a bench has them: the apps install them)."""
	from frappe.model.meta import doctype_json_index

	roles = []
	for doctype in doctype_json_index():
		for perm in frappe.get_meta(doctype).permissions:
			if perm.get("role") and perm.role not in roles:
				roles.append(perm.role)
	return roles


def install_standard_records():
	for role in dict.fromkeys([*STANDARD_ROLES, *_roles_of_doctype_permissions()]):
		if not frappe.db.exists("Role", role):
			frappe.get_doc({"doctype": "Role", "role_name": role, "desk_access": 1}).insert(
				ignore_permissions=True
			)
	for user, first_name, user_type in (
		("Administrator", "Administrator", "System User"),
		("Guest", "Guest", "Website User"),
	):
		if not frappe.db.exists("User", user):
			doc = frappe.get_doc(
				{
					"doctype": "User",
					"name": user,
					"email": "admin@example.com" if user == "Administrator" else "guest@example.com",
					"first_name": first_name,
					"enabled": 1,
					"user_type": user_type,
					"send_welcome_email": 0,
				}
			)
			doc.flags.ignore_links = True
			frappe.flags.in_import = True
			try:
				doc.insert(ignore_permissions=True)
			finally:
				frappe.flags.in_import = False
	frappe.db.sql(
		"insert ignore into `tabHas Role` (name, parent, parenttype, parentfield, role, idx) values ('admin-role', 'Administrator', 'User', 'roles', 'Administrator', 1)"  # noqa: E501
	)
	system_settings = frappe.get_single("System Settings")
	system_settings.update({"time_zone": "UTC", "language": "en", "currency": "USD", "enable_scheduler": 1})
	system_settings.flags.ignore_mandatory = True
	system_settings.flags.ignore_links = True
	system_settings.save(ignore_permissions=True)
