"""How a whitelisted method is called over HTTP (`/api/method/...`), as in v15's frappe.handler."""

import frappe
from frappe import _


def execute_cmd(cmd, from_async=False):
	"""Run a whitelisted method by its dotted path with `frappe.form_dict` as arguments."""
	try:
		method = get_attr(cmd)
	except Exception as e:
		frappe.throw(_("Failed to get method for command {0} with {1}").format(cmd, e))
	is_whitelisted(method)
	is_valid_http_method(method)
	return frappe.call(method, **frappe.form_dict)


def get_attr(cmd):
	if "." in cmd:
		return frappe.get_attr(cmd)
	return globals()[cmd]


def is_whitelisted(method):
	frappe.is_whitelisted(method)


def is_valid_http_method(method):
	http_method = frappe.local.request.method
	if http_method not in frappe.allowed_http_methods_for_whitelisted_func[method]:
		frappe.throw(_("Not permitted"), frappe.PermissionError)
