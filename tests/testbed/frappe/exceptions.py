"""Frappe v15's exception classes, with the same hierarchy and HTTP status codes."""


class SiteNotSpecifiedError(Exception):
	pass


class ValidationError(Exception):
	http_status_code = 417


class AuthenticationError(Exception):
	http_status_code = 401


class SessionExpired(Exception):
	http_status_code = 401


class PermissionError(Exception):
	http_status_code = 403


class DoesNotExistError(ValidationError):
	http_status_code = 404


class NameError(Exception):
	http_status_code = 409


class OutgoingEmailError(Exception):
	http_status_code = 501


class TooManyRequestsError(Exception):
	http_status_code = 429


class DuplicateEntryError(NameError):
	pass


class DataError(ValidationError):
	pass


class InvalidStatusError(ValidationError):
	pass


class MandatoryError(ValidationError):
	pass


class NonNegativeError(ValidationError):
	pass


class CannotChangeConstantError(ValidationError):
	pass


class CharacterLengthExceededError(ValidationError):
	pass


class UpdateAfterSubmitError(ValidationError):
	pass


class LinkValidationError(ValidationError):
	pass


class DocstatusTransitionError(ValidationError):
	pass


class TimestampMismatchError(ValidationError):
	pass


class LinkExistsError(ValidationError):
	pass


class InvalidEmailAddressError(ValidationError):
	pass


class InvalidNameError(ValidationError):
	pass


class InvalidPhoneNumberError(ValidationError):
	pass


class TemplateNotFoundError(ValidationError):
	pass


class UniqueValidationError(ValidationError):
	pass


class AppNotInstalledError(ValidationError):
	pass


class ImplicitCommitError(ValidationError):
	pass


class RetryBackgroundJobError(Exception):
	"""Raise from a job to make `execute_job` retry it (up to 5 times)."""


class DocumentLockedError(ValidationError):
	pass


class InvalidColumnName(ValidationError):
	pass


class DataTooLongException(ValidationError):
	pass


class QueryTimeoutError(Exception):
	pass


class QueryDeadlockError(Exception):
	pass


class InReadOnlyMode(ValidationError):
	http_status_code = 503


class TooManyWritesError(Exception):
	pass


class InvalidDates(ValidationError):
	pass


class DocumentAlreadyRestored(ValidationError):
	pass


class IncorrectSitePath(Exception):
	# v15 derives it from werkzeug.exceptions.NotFound (HTTP 404); werkzeug is not in the testbed
	http_status_code = 404


class FrappeTypeError(TypeError):
	http_status_code = 417
