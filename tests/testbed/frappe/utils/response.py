"""`json_handler`, the `default=` Frappe's `as_json` uses for dates, decimals and documents."""

import datetime
import decimal
import uuid


def json_handler(obj):
	from frappe.model.document import Document

	if isinstance(obj, datetime.date | datetime.datetime | datetime.time):
		return str(obj)
	if isinstance(obj, datetime.timedelta):
		return str(obj)
	if isinstance(obj, decimal.Decimal):
		return float(obj)
	if isinstance(obj, uuid.UUID):
		return str(obj)
	if isinstance(obj, Document):
		return obj.as_dict(no_nulls=True)
	if isinstance(obj, set | tuple):
		return list(obj)
	if hasattr(obj, "__json__"):
		return obj.__json__()
	raise TypeError(f"""Object of type {type(obj)} with value of {obj!r} is not JSON serializable""")
