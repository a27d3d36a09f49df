"""Notifications shared by every job: realtime messages to a user, emails to users or a role."""

import frappe


def notify_user(user: str, message: str, indicator: str = "blue", title: str | None = None):
	"""A Desk message for `user` (`msgprint` event: a dialog in every open tab of that user)."""
	frappe.publish_realtime(
		"msgprint", {"message": message, "indicator": indicator, "title": title}, user=user
	)


def users_with_role(role: str) -> list[str]:
	"""Enabled System Users that have `role` (Administrator included when it has an email)."""
	return frappe.db.sql(
		"""select distinct user.name from `tabUser` user
		join `tabHas Role` has_role on has_role.parent = user.name and has_role.parenttype = 'User'
		where has_role.role = %s and user.enabled = 1 and user.user_type = 'System User'
		and user.name != 'Guest' and ifnull(user.email, '') != ''
		order by user.name""",
		role,
		pluck=True,
	)


def email_addresses(users: list[str]) -> list[str]:
	if not users:
		return []
	return frappe.get_all(
		"User", filters={"name": ("in", users), "enabled": 1, "email": ("is", "set")}, pluck="email"
	)
