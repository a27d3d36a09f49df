# Testbed stand-in for Frappe v15's User controller: naming, full name, user type and roles.
import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import cint
from frappe.utils.html_utils import sanitize_html

STANDARD_USERS = ("Guest", "Administrator")


class User(Document):
	def autoname(self):
		"""set name as Email Address"""
		if self.get("is_admin") or self.get("is_guest"):
			self.name = self.first_name
		else:
			self.email = self.email.strip().lower()
			self.name = self.email

	def validate(self):
		if self.email and self.name not in STANDARD_USERS:
			self.email = self.email.strip().lower()
		if self.name not in STANDARD_USERS:
			self.email = self.name
			self.validate_email_type(self.name)
		self.clean_name()
		self.set_full_name()
		self.check_enable_disable()
		self.remove_all_roles_for_guest()
		self.set_system_user()

	def clean_name(self):
		"""v15: names are sanitised as HTML (always), so markup in a name cannot run in the desk."""
		for field in ("first_name", "middle_name", "last_name"):
			if field_value := self.get(field):
				self.set(field, sanitize_html(field_value, always_sanitize=True))

	def validate_email_type(self, email):
		from frappe.utils import validate_email_address

		validate_email_address(email.strip(), True)

	def set_full_name(self):
		self.full_name = " ".join(filter(None, [self.first_name, self.last_name]))

	def check_enable_disable(self):
		# do not allow disabling administrator/guest
		if not cint(self.enabled) and self.name in STANDARD_USERS:
			frappe.throw(_("User {0} cannot be disabled").format(self.name))

	def set_system_user(self):
		"""Administrator is a System User, Guest a Website User; others by desk access of their roles."""
		if self.name == "Administrator":
			self.user_type = "System User"
		elif self.name == "Guest":
			self.user_type = "Website User"
		else:
			self.user_type = "System User" if self.has_desk_access() else "Website User"

	def has_desk_access(self):
		"""Return true if any of the set roles has desk access"""
		role_names = [d.role for d in self.get("roles") if d.role]
		if not role_names:
			return False
		return bool(frappe.get_all("Role", filters={"name": ("in", role_names), "desk_access": 1}, limit=1))

	def get_fullname(self):
		"""get first_name space last_name"""
		return (self.first_name or "") + (self.first_name and " " or "") + (self.last_name or "")

	def append_roles(self, *roles):
		"""Add roles to user"""
		current_roles = [d.role for d in self.get("roles")]
		for role in roles:
			if role in current_roles:
				continue
			self.append("roles", {"role": role})

	def add_roles(self, *roles):
		"""Add roles to user and save"""
		self.append_roles(*roles)
		self.save()

	def remove_roles(self, *roles):
		existing_roles = {d.role: d for d in self.get("roles")}
		for role in roles:
			if role in existing_roles:
				self.get("roles").remove(existing_roles[role])
		self.save()

	def remove_all_roles_for_guest(self):
		if self.name == "Guest":
			self.set("roles", [d for d in self.get("roles") if d.role == "Guest"])


def get_permission_query_conditions(user):
	if user == "Administrator":
		return ""
	else:
		return """(`tabUser`.name not in ({standard_users}))""".format(
			standard_users=", ".join(frappe.db.escape(user) for user in STANDARD_USERS)
		)


def has_permission(doc, user):
	if (user != "Administrator") and (doc.name in STANDARD_USERS):
		# dont allow non Administrator user to view / edit Administrator user
		return False
