"""Notifications shared by every job: realtime messages to a user, emails to users or a role."""

import frappe


def notify_user(user: str, message: str, indicator: str = "blue", title: str | None = None):
	"""A Desk message for `user` (`msgprint` event: a dialog in every open tab of that user)."""
	frappe.publish_realtime(
		"msgprint", {"message": message, "indicator": indicator, "title": title}, user=user
	)


def users_with_role(role: str) -> list[str]:
	"""Enabled System Users with an email that have `role`: the people a job reports to.

	Never Administrator or Guest (`frappe.STANDARD_USERS`), as Frappe's own `get_system_managers`:
	Administrator holds every role and its address is often install's placeholder
	(admin@example.com). To reach it anyway, list its address among a job's other recipients."""
	return frappe.db.sql(
		"""select distinct user.name from `tabUser` user
		join `tabHas Role` has_role on has_role.parent = user.name and has_role.parenttype = 'User'
		where has_role.role = %(role)s and user.enabled = 1 and user.user_type = 'System User'
		and user.name not in %(standard_users)s and ifnull(user.email, '') != ''
		order by user.name""",
		{"role": role, "standard_users": frappe.STANDARD_USERS},
		pluck=True,
	)


def email_addresses(users: list[str]) -> list[str]:
	if not users:
		return []
	return frappe.get_all(
		"User", filters={"name": ("in", users), "enabled": 1, "email": ("is", "set")}, pluck="email"
	)
