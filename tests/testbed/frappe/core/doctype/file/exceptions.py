import frappe


class MaxFileSizeReachedError(frappe.ValidationError):
	pass


class FolderNotEmpty(frappe.ValidationError):
	pass


class FileTypeNotAllowed(frappe.ValidationError):
	pass


class AttachmentLimitReached(frappe.ValidationError):
	pass
