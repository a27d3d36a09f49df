# Testbed: date, number and string helpers with the names, signatures and behaviour of
# Frappe v15's frappe/utils/data.py (the part myapp and the testbed use).

import calendar
import datetime
import hashlib
import json
import math
import re
import time
import typing
from typing import Any
from urllib.parse import quote, urljoin

import pytz
from dateutil import parser
from dateutil.parser import ParserError
from dateutil.relativedelta import relativedelta

import frappe

DateTimeLikeObject = str | datetime.date | datetime.datetime
NumericType = int | float

DATE_FORMAT = "%Y-%m-%d"
TIME_FORMAT = "%H:%M:%S.%f"
DATETIME_FORMAT = f"{DATE_FORMAT} {TIME_FORMAT}"
TIMEDELTA_DAY_PATTERN = re.compile(
	r"(?P<days>[-\d]+) day[s]*, (?P<hours>\d+):(?P<minutes>\d+):(?P<seconds>\d[\.\d+]*)"
)
TIMEDELTA_BASE_PATTERN = re.compile(r"(?P<hours>\d+):(?P<minutes>\d+):(?P<seconds>\d[\.\d+]*)")
URLS_HTTP_TAG_PATTERN = re.compile(r'(href|src){1}([\s]*=[\s]*[\'"]?)((?:http)[^\'">]+)([\'"]?)')
URLS_NOT_HTTP_TAG_PATTERN = re.compile(r'(href|src){1}([\s]*=[\s]*[\'"]?)((?!http)[^\'" >]+)([\'"]?)')
URL_NOTATION_PATTERN = re.compile(r'(:[\s]?url)(\([\'"]?)((?!http)[^\'" >]+)([\'"]?\))')
DURATION_PATTERN = re.compile(r"^(?:(\d+d)?((^|\s)\d+h)?((^|\s)\d+m)?((^|\s)\d+s)?)$")
HTML_TAG_PATTERN = re.compile("<[^>]+>")
_striptags_re = re.compile(r"(<!--.*?-->|<[^>]*>)")

# v15 falls back to this zone when System Settings has no time_zone (see get_system_timezone)
DEFAULT_SYSTEM_TIMEZONE = "Asia/Kolkata"


# ---------------------------------------------------------------------------
# access to the site context, tolerant of "no site" (pure unit tests)
# ---------------------------------------------------------------------------


def _local(attr, default=None):
	local = getattr(frappe, "local", None)
	if local is None:
		return default
	return getattr(local, attr, default)


def _conf():
	conf = _local("conf")
	if conf is None:
		conf = getattr(frappe, "conf", None)
	if conf is None:
		conf = {}
	return _attrdict(conf)


class _attrdict(dict):
	def __getattr__(self, key):
		return self.get(key)


def _db():
	return _local("db")


def _system_setting(key):
	"""frappe.get_system_settings(key) when a database is connected, else None."""
	if not _db():
		return None
	getter = getattr(frappe, "get_system_settings", None)
	if getter is not None:
		return getter(key)
	return frappe.db.get_single_value("System Settings", key)


def _get_default(key):
	"""frappe.db.get_default(key) (System Settings values are site defaults in v15)."""
	db = _db()
	if not db:
		return None
	if hasattr(db, "get_default"):
		return db.get_default(key)
	return _system_setting(key)


def _translate(msg, *args, **kwargs):
	_ = getattr(frappe, "_", None)
	return _(msg, *args, **kwargs) if _ else msg


def _throw(msg, exc=None, title=None):
	throw = getattr(frappe, "throw", None)
	if throw is None:
		raise (exc or ValueError)(msg)
	kwargs = {"title": title} if title else {}
	if exc:
		kwargs["exc"] = exc
	throw(msg, **kwargs)


def _bold(text):
	return f"<strong>{text}</strong>"


# ---------------------------------------------------------------------------
# dates and times
# ---------------------------------------------------------------------------


def get_first_day_of_the_week() -> str:
	return _system_setting("first_day_of_the_week") or "Sunday"


_WEEKDAY_INDEX = {
	"Sunday": 0,
	"Monday": 1,
	"Tuesday": 2,
	"Wednesday": 3,
	"Thursday": 4,
	"Friday": 5,
	"Saturday": 6,
}


def get_start_of_week_index() -> int:
	return _WEEKDAY_INDEX[get_first_day_of_the_week()]


def is_invalid_date_string(date_string: str) -> bool:
	# dateutil parser does not agree with dates like "0001-01-01" or "0000-00-00"
	return not isinstance(date_string, str) or (
		(not date_string) or (date_string or "").startswith(("0001-01-01", "0000-00-00"))
	)


def getdate(
	string_date: DateTimeLikeObject | None = None, parse_day_first: bool = False
) -> datetime.date | None:
	"""Convert a string date (yyyy-mm-dd) to datetime.date; today when nothing is given."""
	if not string_date:
		return get_datetime().date()
	if isinstance(string_date, datetime.datetime):
		return string_date.date()
	elif isinstance(string_date, datetime.date):
		return string_date

	if is_invalid_date_string(string_date):
		return None
	try:
		return parser.parse(string_date, dayfirst=parse_day_first).date()
	except ParserError:
		_throw(
			_translate("{} is not a valid date string.").format(_bold(string_date)),
			title=_translate("Invalid Date"),
		)


def get_datetime(datetime_str: DateTimeLikeObject | None = None) -> datetime.datetime | None:
	if datetime_str is None:
		return now_datetime()

	if isinstance(datetime_str, datetime.datetime | datetime.timedelta):
		return datetime_str

	elif isinstance(datetime_str, list | tuple):
		return datetime.datetime(datetime_str)

	elif isinstance(datetime_str, datetime.date):
		return datetime.datetime.combine(datetime_str, datetime.time())

	if is_invalid_date_string(datetime_str):
		return None

	try:
		return datetime.datetime.strptime(datetime_str, DATETIME_FORMAT)
	except ValueError:
		return parser.parse(datetime_str)


def get_timedelta(time: str | datetime.timedelta | None = None) -> datetime.timedelta | None:
	"""Return a timedelta from a time string ('17:21:00', '2012-01-19 17:21:00'); None if invalid."""
	if isinstance(time, datetime.timedelta):
		return time

	time = time or "0:0:0"

	try:
		try:
			t = parser.parse(time)
		except ParserError as e:
			if "day" in e.args[1] or "hour must be in" in e.args[0]:
				return parse_timedelta(time)
			raise e
		return datetime.timedelta(
			hours=t.hour, minutes=t.minute, seconds=t.second, microseconds=t.microsecond
		)
	except Exception:
		return None


def to_timedelta(time_str: str | datetime.time) -> datetime.timedelta:
	if isinstance(time_str, datetime.time):
		time_str = str(time_str)

	if isinstance(time_str, str):
		t = parser.parse(time_str)
		return datetime.timedelta(
			hours=t.hour, minutes=t.minute, seconds=t.second, microseconds=t.microsecond
		)

	return time_str


def add_to_date(
	date: DateTimeLikeObject,
	years=0,
	months=0,
	weeks=0,
	days=0,
	hours=0,
	minutes=0,
	seconds=0,
	as_string=False,
	as_datetime=False,
) -> DateTimeLikeObject:
	"""Add the given interval to `date`; a string in gives a string out."""
	if date is None:
		date = now_datetime()

	if hours:
		as_datetime = True

	if isinstance(date, str):
		as_string = True
		if " " in date:
			as_datetime = True
		try:
			date = parser.parse(date)
		except ParserError:
			_throw(_translate("Please select a valid date filter"), title=_translate("Invalid Date"))

	date = date + relativedelta(
		years=years, months=months, weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds
	)

	if as_string:
		if as_datetime:
			return date.strftime(DATETIME_FORMAT)
		return date.strftime(DATE_FORMAT)
	return date


def add_days(date, days):
	return add_to_date(date, days=days)


def add_months(date, months):
	return add_to_date(date, months=months)


def add_years(date, years):
	return add_to_date(date, years=years)


def date_diff(string_ed_date: DateTimeLikeObject, string_st_date: DateTimeLikeObject) -> int:
	"""Difference between two dates in days."""
	return days_diff(string_ed_date, string_st_date)


def days_diff(string_ed_date: DateTimeLikeObject, string_st_date: DateTimeLikeObject) -> int:
	return (getdate(string_ed_date) - getdate(string_st_date)).days


def month_diff(string_ed_date, string_st_date):
	ed_date = getdate(string_ed_date)
	st_date = getdate(string_st_date)
	return (ed_date.year - st_date.year) * 12 + ed_date.month - st_date.month + 1


def time_diff(string_ed_date, string_st_date):
	return get_datetime(string_ed_date) - get_datetime(string_st_date)


def time_diff_in_seconds(string_ed_date, string_st_date):
	return time_diff(string_ed_date, string_st_date).total_seconds()


def time_diff_in_hours(string_ed_date, string_st_date):
	return round(float(time_diff(string_ed_date, string_st_date).total_seconds()) / 3600, 6)


def now_datetime():
	dt = convert_utc_to_system_timezone(datetime.datetime.now(pytz.UTC))
	return dt.replace(tzinfo=None)


def get_timestamp(date):
	return time.mktime(getdate(date).timetuple())


def get_eta(from_time, percent_complete):
	diff = time_diff(now_datetime(), from_time).total_seconds()
	return str(datetime.timedelta(seconds=(100 - percent_complete) / percent_complete * diff))


def get_system_timezone() -> str:
	"""The site's time zone (System Settings), v15's default when none is set."""
	return _system_setting("time_zone") or DEFAULT_SYSTEM_TIMEZONE


def convert_utc_to_timezone(utc_timestamp, time_zone):
	from pytz import UnknownTimeZoneError, timezone

	if utc_timestamp.tzinfo is None:
		utc_timestamp = timezone("UTC").localize(utc_timestamp)
	try:
		return utc_timestamp.astimezone(timezone(time_zone))
	except UnknownTimeZoneError:
		return utc_timestamp


def get_datetime_in_timezone(time_zone):
	return convert_utc_to_timezone(datetime.datetime.now(pytz.UTC), time_zone)


def convert_utc_to_system_timezone(utc_timestamp):
	return convert_utc_to_timezone(utc_timestamp, get_system_timezone())


def now() -> str:
	"""Current datetime as yyyy-mm-dd hh:mm:ss.ffffff"""
	flags = getattr(frappe, "flags", None)
	current_date = (
		flags.get("current_date") if isinstance(flags, dict) else getattr(flags, "current_date", None)
	)
	if current_date:
		return getdate(current_date).strftime(DATE_FORMAT) + " " + now_datetime().strftime(TIME_FORMAT)
	return now_datetime().strftime(DATETIME_FORMAT)


def nowdate() -> str:
	"""Current date as yyyy-mm-dd"""
	return now_datetime().strftime(DATE_FORMAT)


def today() -> str:
	return nowdate()


def get_abbr(string: str, max_len: int = 2) -> str:
	abbr = ""
	for part in string.split(" "):
		if len(abbr) < max_len and part:
			abbr += part[0]
	return abbr or "?"


def nowtime() -> str:
	"""Current time as hh:mm:ss.ffffff"""
	return now_datetime().strftime(TIME_FORMAT)


def get_first_day(dt, d_years: int = 0, d_months: int = 0, as_str: bool = False) -> str | datetime.date:
	"""First day of the month of `dt`, shifted by `d_years` and `d_months`."""
	dt = getdate(dt)
	overflow_years, month = divmod(dt.month + d_months - 1, 12)
	year = dt.year + d_years + overflow_years
	first = datetime.date(year, month + 1, 1)
	return first.strftime(DATE_FORMAT) if as_str else first


def get_quarter_start(dt, as_str: bool = False) -> str | datetime.date:
	date = getdate(dt)
	quarter = (date.month - 1) // 3 + 1
	first_date_of_quarter = datetime.date(date.year, ((quarter - 1) * 3) + 1, 1)
	return first_date_of_quarter.strftime(DATE_FORMAT) if as_str else first_date_of_quarter


def get_first_day_of_week(dt, as_str=False):
	dt = getdate(dt)
	date = dt - datetime.timedelta(days=get_week_start_offset_days(dt))
	return date.strftime(DATE_FORMAT) if as_str else date


def get_week_start_offset_days(dt):
	current_day_index = get_normalized_weekday_index(dt)
	start_of_week_index = get_start_of_week_index()
	if current_day_index >= start_of_week_index:
		return current_day_index - start_of_week_index
	return 7 - (start_of_week_index - current_day_index)


def get_normalized_weekday_index(dt):
	# starts Sunday with 0
	return (dt.weekday() + 1) % 7


def get_year_start(dt, as_str=False):
	dt = getdate(dt)
	date = datetime.date(dt.year, 1, 1)
	return date.strftime(DATE_FORMAT) if as_str else date


def get_last_day_of_week(dt):
	dt = get_first_day_of_week(dt)
	return dt + datetime.timedelta(days=6)


def get_last_day(dt):
	"""Last day of the month of `dt`."""
	return get_first_day(dt, 0, 1) + datetime.timedelta(-1)


def is_last_day_of_the_month(dt):
	return getdate(dt) == getdate(get_last_day(dt))


def get_quarter_ending(date):
	date = getdate(date)
	for month in (3, 6, 9, 12):
		quarter_end_date = getdate(get_last_day(getdate(f"{date.year}-{month}-01")))
		if date <= quarter_end_date:
			date = quarter_end_date
			break
	return date


def get_year_ending(date) -> datetime.date:
	date = getdate(date)
	return add_to_date(datetime.date(date.year + 1, 1, 1), days=-1)


def get_time(time_str: str) -> datetime.time:
	if isinstance(time_str, datetime.datetime):
		return time_str.time()
	elif isinstance(time_str, datetime.time):
		return time_str
	elif isinstance(time_str, datetime.timedelta):
		return (datetime.datetime.min + time_str).time()
	try:
		return parser.parse(time_str).time()
	except ParserError as e:
		if "day" in e.args[1] or "hour must be in" in e.args[0]:
			return (datetime.datetime.min + parse_timedelta(time_str)).time()
		raise e


def get_datetime_str(datetime_obj) -> str:
	if isinstance(datetime_obj, str):
		datetime_obj = get_datetime(datetime_obj)
	return datetime_obj.strftime(DATETIME_FORMAT)


def get_date_str(date_obj) -> str:
	if isinstance(date_obj, str):
		date_obj = get_datetime(date_obj)
	return date_obj.strftime(DATE_FORMAT)


def get_time_str(timedelta_obj) -> str:
	if isinstance(timedelta_obj, str):
		timedelta_obj = to_timedelta(timedelta_obj)
	hours, remainder = divmod(timedelta_obj.seconds, 3600)
	minutes, seconds = divmod(remainder, 60)
	return f"{hours}:{minutes}:{seconds}"


def get_user_date_format() -> str:
	"""The site's date format (cached on frappe.local as v15 does)."""
	local = getattr(frappe, "local", None)
	cached = getattr(local, "user_date_format", None) if local is not None else None
	if cached is None:
		cached = _get_default("date_format")
		if local is not None and _db():
			local.user_date_format = cached
	return cached or "yyyy-mm-dd"


get_user_format = get_user_date_format  # for backwards compatibility


def get_user_time_format() -> str:
	local = getattr(frappe, "local", None)
	cached = getattr(local, "user_time_format", None) if local is not None else None
	if cached is None:
		cached = _get_default("time_format")
		if local is not None and _db():
			local.user_time_format = cached
	return cached or "HH:mm:ss"


# The testbed has no babel: formats are the CLDR patterns Frappe uses (dd, MM, yyyy, HH, mm, ss),
# which babel renders like these strftime codes for numeric dates in any locale.
_CLDR_TOKENS = re.compile(r"yyyy|yy|MM|M|dd|d|HH|H|hh|h|mm|ss|a")
_CLDR_STRFTIME = {
	"yyyy": "%Y",
	"yy": "%y",
	"MM": "%m",
	"dd": "%d",
	"HH": "%H",
	"hh": "%I",
	"mm": "%M",
	"ss": "%S",
	"a": "%p",
}


def _cldr_format(value, pattern):
	def repl(m):
		token = m.group(0)
		if token in _CLDR_STRFTIME:
			return value.strftime(_CLDR_STRFTIME[token])
		if token == "M":
			return str(value.month)
		if token == "d":
			return str(value.day)
		if token == "H":
			return str(value.hour)
		if token == "h":
			return str(value.hour % 12 or 12)
		return token

	return _CLDR_TOKENS.sub(repl, pattern)


def format_date(string_date=None, format_string: str | None = None, parse_day_first: bool = False) -> str:
	"""Format a date in the site's date format (dd-mm-yyyy, mm/dd/yyyy, ...)."""
	if not string_date:
		return ""

	date = getdate(string_date, parse_day_first)
	if not format_string:
		format_string = get_user_date_format()
	format_string = format_string.replace("mm", "MM").replace("Y", "y")
	return _cldr_format(date, format_string)


formatdate = format_date  # For backwards compatibility


def format_time(time_string=None, format_string: str | None = None) -> str:
	if not time_string:
		return ""

	time_ = get_time(time_string)
	if not format_string:
		format_string = get_user_time_format()
	return _cldr_format(time_, format_string)


def format_datetime(datetime_string: DateTimeLikeObject, format_string: str | None = None) -> str:
	if not datetime_string:
		return

	value = get_datetime(datetime_string)
	if not format_string:
		format_string = get_user_date_format().replace("mm", "MM") + " " + get_user_time_format()
	return _cldr_format(value, format_string.replace("Y", "y"))


def format_duration(seconds, hide_days=False):
	"""Format seconds as '3h 34m 45s'."""
	seconds = cint(seconds)

	total_duration = {
		"days": math.floor(seconds / (3600 * 24)),
		"hours": math.floor(seconds % (3600 * 24) / 3600),
		"minutes": math.floor(seconds % 3600 / 60),
		"seconds": math.floor(seconds % 60),
	}

	if hide_days:
		total_duration["hours"] = math.floor(seconds / 3600)
		total_duration["days"] = 0

	parts = []
	for key, suffix in (("days", "d"), ("hours", "h"), ("minutes", "m"), ("seconds", "s")):
		if total_duration.get(key):
			parts.append(f"{total_duration[key]}{suffix}")
	return " ".join(parts)


def duration_to_seconds(duration):
	validate_duration_format(duration)
	value = 0
	for unit, factor in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
		if unit in duration:
			amount, duration = duration.split(unit, 1)
			value += cint(amount) * factor
	return value


def validate_duration_format(duration):
	if not DURATION_PATTERN.match(duration):
		_throw(_translate("Value {0} must be in the valid duration format: d h m s").format(_bold(duration)))


def get_weekdays():
	return ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def get_weekday(datetime: datetime.datetime | None = None) -> str:
	if not datetime:
		datetime = now_datetime()
	return get_weekdays()[datetime.weekday()]


def get_month(datetime: DateTimeLikeObject | None = None) -> str:
	if not datetime:
		datetime = now_datetime()
	if isinstance(datetime, str):
		datetime = get_datetime(datetime)
	return calendar.month_name[datetime.month]


def global_date_format(date, format="long"):
	"""Date as 'January 1, 2012' (babel's English long format)."""
	date = getdate(date)
	if format == "short":
		return f"{date.month}/{date.day}/{date.strftime('%y')}"
	if format == "medium":
		return f"{calendar.month_abbr[date.month]} {date.day}, {date.year}"
	return f"{calendar.month_name[date.month]} {date.day}, {date.year}"


def format_timedelta(o: datetime.timedelta | str) -> str:
	if isinstance(o, datetime.timedelta):
		total_seconds = o.total_seconds()
	else:
		total_seconds = cint(o)
	hours, remainder = divmod(total_seconds, 3600)
	minutes, seconds = divmod(remainder, 60)
	rounded_seconds = round(seconds, 6)
	int_seconds = int(seconds)
	seconds = int_seconds if rounded_seconds == int_seconds else rounded_seconds
	return f"{int(hours):01}:{int(minutes):02}:{seconds:02}"


def parse_timedelta(s: str) -> datetime.timedelta:
	if "day" in s:
		m = TIMEDELTA_DAY_PATTERN.match(s)
	else:
		m = TIMEDELTA_BASE_PATTERN.match(s)
	return datetime.timedelta(**{key: float(val) for key, val in m.groupdict().items()})


def pretty_date(iso_datetime: datetime.datetime | str) -> str:
	"""Delta to now in words: '1 hour ago', '2 days ago', 'in 5 seconds' (babel's English output)."""
	if not iso_datetime:
		return ""

	if isinstance(iso_datetime, str):
		iso_datetime = datetime.datetime.strptime(iso_datetime, DATETIME_FORMAT)
	now_dt = datetime.datetime.strptime(now(), DATETIME_FORMAT)
	delta = (iso_datetime - now_dt).total_seconds()
	seconds = abs(delta)
	# babel: the largest unit whose value reaches the 0.85 threshold, rounded
	for unit, size in (  # noqa: B007 (unit is used after the loop)
		("year", 365 * 86400),
		("month", 30 * 86400),
		("week", 7 * 86400),
		("day", 86400),
		("hour", 3600),
		("minute", 60),
		("second", 1),
	):
		value = seconds / size
		if value >= 0.85:
			break
	value = max(1, round(value))
	text = f"{value} {unit}{'' if value == 1 else 's'}"
	return f"in {text}" if delta >= 0 else f"{text} ago"


# ---------------------------------------------------------------------------
# numbers and strings
# ---------------------------------------------------------------------------


def has_common(l1: typing.Hashable, l2: typing.Hashable) -> bool:
	"""Truthy if the lists have an element in common."""
	return set(l1) & set(l2)


def cast(fieldtype, value=None):
	"""Cast `value` to the Python type of a Frappe fieldtype."""
	if fieldtype in ("Currency", "Float", "Percent"):
		value = flt(value)

	elif fieldtype in ("Int", "Check"):
		value = cint(sbool(value))

	elif fieldtype in (
		"Data",
		"Text",
		"Small Text",
		"Long Text",
		"Text Editor",
		"Select",
		"Link",
		"Dynamic Link",
	):
		value = cstr(value)

	elif fieldtype == "Date":
		value = getdate(value) if value else datetime.datetime(1, 1, 1).date()

	elif fieldtype == "Datetime":
		value = get_datetime(value) if value else datetime.datetime(1, 1, 1)

	elif fieldtype == "Time":
		value = get_timedelta(value)

	return value


def flt(s: NumericType | str, precision: int | None = None, rounding_method: str | None = None) -> float:
	"""Convert to float (ignoring commas in a string); 0.0 when it cannot be converted.

	>>> flt("43.5", precision=0)
	44
	>>> flt("42.5", precision=0)
	42
	>>> flt("10,500.5666", precision=2)
	10500.57
	"""
	if isinstance(s, str):
		s = s.replace(",", "")

	try:
		num = float(s)
		if precision is not None:
			num = rounded(num, precision, rounding_method)
	except Exception as e:
		invalid_rounding = getattr(frappe, "InvalidRoundingMethod", None)
		if invalid_rounding and isinstance(e, invalid_rounding):
			raise
		num = 0.0

	return num


def cint(s: NumericType | str, default: int = 0) -> int:
	"""Convert to int; `default` when it cannot be converted."""
	try:
		return int(s)
	except Exception:
		try:
			return int(float(s))
		except Exception:
			return default


def floor(s):
	try:
		return cint(math.floor(flt(s)))
	except Exception:
		return 0


def ceil(s):
	try:
		return cint(math.ceil(flt(s)))
	except Exception:
		return 0


def cstr(s, encoding="utf-8"):
	if isinstance(s, str):
		return s
	elif s is None:
		return ""
	elif isinstance(s, bytes):
		return str(s, encoding)
	return str(s)


def sbool(x: str) -> bool | Any:
	"""'true'/'1' -> True, 'false'/'0' -> False, anything else unchanged."""
	try:
		val = x.lower()
		if val in ("true", "1"):
			return True
		elif val in ("false", "0"):
			return False
		return x
	except Exception:
		return x


def rounded(num, precision=0, rounding_method=None):
	"""Round by the System Settings method; Banker's Rounding (legacy) by default."""
	precision = cint(precision)

	rounding_method = rounding_method or _system_setting("rounding_method") or "Banker's Rounding (legacy)"

	if rounding_method == "Banker's Rounding (legacy)":
		return _bankers_rounding_legacy(num, precision)
	elif rounding_method == "Banker's Rounding":
		return _bankers_rounding(num, precision)
	elif rounding_method == "Commercial Rounding":
		return _round_away_from_zero(num, precision)
	else:
		_throw(
			_translate("Unknown Rounding Method: {}").format(rounding_method),
			exc=getattr(frappe, "InvalidRoundingMethod", ValueError),
		)


def _bankers_rounding_legacy(num, precision):
	multiplier = 10**precision
	num = round(num * multiplier if precision else num, 8)

	floor_num = math.floor(num)
	decimal_part = num - floor_num

	if not precision and decimal_part == 0.5:
		num = floor_num if (floor_num % 2 == 0) else floor_num + 1
	elif decimal_part == 0.5:
		num = floor_num + 1
	else:
		num = round(num)

	return (num / multiplier) if precision else num


def _round_away_from_zero(num, precision):
	if num == 0:
		return 0.0
	# nudge by the representation error so that ties break away from zero
	epsilon = 2.0 ** (math.log(abs(num), 2) - 52.0)
	return round(num + math.copysign(epsilon, num), precision)


def _bankers_rounding(num, precision):
	multiplier = 10**precision
	num = round(num * multiplier, 12)

	if num == 0:
		return 0.0

	floor_num = math.floor(num)
	decimal_part = num - floor_num

	epsilon = 2.0 ** (math.log(abs(num), 2) - 52.0)
	if abs(decimal_part - 0.5) < epsilon:
		num = floor_num if (floor_num % 2 == 0) else floor_num + 1
	else:
		num = round(num)

	return num / multiplier


def remainder(numerator: NumericType, denominator: NumericType, precision: int = 2) -> NumericType:
	precision = cint(precision)
	multiplier = 10**precision
	if precision:
		_remainder = ((numerator * multiplier) % (denominator * multiplier)) / multiplier
	else:
		_remainder = numerator % denominator
	return flt(_remainder, precision)


def safe_div(numerator: NumericType, denominator: NumericType, precision: int = 2) -> float:
	"""Division that returns zero when dividing by zero."""
	precision = cint(precision)
	_res = 0.0 if denominator == 0 else float(numerator) / denominator
	return flt(_res, precision)


def encode(obj, encoding="utf-8"):
	if isinstance(obj, list):
		return [o.encode(encoding) if isinstance(o, str) else o for o in obj]
	elif isinstance(obj, str):
		return obj.encode(encoding)
	return obj


def parse_val(v):
	"""Convert SQL result values to simple types."""
	if isinstance(v, datetime.date | datetime.datetime):
		v = str(v)
	elif isinstance(v, datetime.timedelta):
		v = ":".join(str(v).split(":")[:2])
	elif isinstance(v, int):
		v = int(v)
	return v


def _currency_value(currency, fieldname):
	db = _db()
	if not db or not currency:
		return None
	return db.get_value("Currency", currency, fieldname, cache=True)


def fmt_money(
	amount: str | float | int | None,
	precision: int | None = None,
	currency: str | None = None,
	format: str | None = None,
) -> str:
	"""Number with thousands separators in the site's number format, with the currency symbol."""
	number_format = format or _get_default("number_format") or "#,###.##"
	if precision is None:
		precision = cint(_get_default("currency_precision")) or None

	decimal_str, comma_str, number_format_precision = get_number_format_info(number_format)

	if precision is None:
		precision = number_format_precision

	if isinstance(amount, str):
		amount = flt(amount, precision)

	if amount is None:
		amount = 0

	if decimal_str:
		decimals_after = str(round(amount % 1, precision))
		parts = decimals_after.split(".")
		parts = parts[1] if len(parts) > 1 else parts[0]
		decimals = parts
		if precision > 2:
			if len(decimals) < 3:
				if currency:
					fraction = _currency_value(currency, "fraction_units") or 100
					precision = len(cstr(fraction)) - 1
				else:
					precision = number_format_precision
			elif len(decimals) < precision:
				precision = len(decimals)

	amount = f"{round(flt(amount), precision):.{precision}f}"

	decimals = "" if amount.find(".") == -1 else amount.split(".")[1]

	parts = []
	minus = "-" if flt(amount) < 0 else ""

	amount = cstr(abs(flt(amount))).split(".", 1)[0]

	if len(amount) > 3:
		parts.append(amount[-3:])
		amount = amount[:-3]

		val = 2 if number_format == "#,##,###.##" else 3

		while len(amount) > val:
			parts.append(amount[-val:])
			amount = amount[:-val]

	parts.append(amount)
	parts.reverse()

	amount = comma_str.join(parts) + ((precision and decimal_str) and (decimal_str + decimals) or "")
	if amount != "0":
		amount = minus + amount

	if currency and _get_default("hide_currency_symbol") != "Yes":
		symbol = _currency_value(currency, "symbol") or currency
		symbol_on_right = _currency_value(currency, "symbol_on_right")

		if symbol_on_right:
			amount = f"{amount} {_translate(symbol)}"
		else:
			amount = f"{_translate(symbol)} {amount}"

	return amount


number_format_info = {
	"#,###.##": (".", ",", 2),
	"#.###,##": (",", ".", 2),
	"# ###.##": (".", " ", 2),
	"# ###,##": (",", " ", 2),
	"#'###.##": (".", "'", 2),
	"#, ###.##": (".", ", ", 2),
	"#,##,###.##": (".", ",", 2),
	"#,###.###": (".", ",", 3),
	"#.###": ("", ".", 0),
	"#,###": ("", ",", 0),
	"#.########": (".", "", 8),
}


def get_number_format_info(format: str) -> tuple[str, str, int]:
	return number_format_info.get(format) or (".", ",", 2)


def is_html(text: str) -> bool:
	if not isinstance(text, str):
		return False
	return HTML_TAG_PATTERN.search(text)


def is_image(filepath: str) -> bool:
	from mimetypes import guess_type

	# filepath can be https://example.com/bed.jpg?v=129
	filepath = (filepath or "").split("?", 1)[0]
	return (guess_type(filepath)[0] or "").startswith("image/")


def strip_html(text: str) -> str:
	"""Remove anything enclosed in and including <>"""
	return _striptags_re.sub("", text)


def escape_html(text: str) -> str:
	if not isinstance(text, str):
		return text

	html_escape_table = {
		"&": "&amp;",
		'"': "&quot;",
		"'": "&apos;",
		">": "&gt;",
		"<": "&lt;",
	}
	return "".join(html_escape_table.get(c, c) for c in text)


def comma_or(some_list, add_quotes=True):
	return comma_sep(some_list, _translate("{0} or {1}"), add_quotes)


def comma_and(some_list, add_quotes=True):
	return comma_sep(some_list, _translate("{0} and {1}"), add_quotes)


def comma_sep(some_list, pattern, add_quotes=True):
	if isinstance(some_list, list | tuple):
		some_list = [str(s) for s in list(some_list)]
		if not some_list:
			return ""
		elif len(some_list) == 1:
			return some_list[0]
		some_list = [f"'{s}'" for s in some_list] if add_quotes else [f"{s}" for s in some_list]
		return pattern.format(", ".join(_translate(s) for s in some_list[:-1]), some_list[-1])
	return some_list


def new_line_sep(some_list):
	if isinstance(some_list, list | tuple):
		some_list = [str(s) for s in list(some_list)]
		if not some_list:
			return ""
		elif len(some_list) == 1:
			return some_list[0]
		return "\n ".join(some_list)
	return some_list


def filter_strip_join(some_list: list[str], sep: str) -> list[str]:
	"""Filter out None values, strip and join"""
	return (cstr(sep)).join(cstr(a).strip() for a in filter(None, some_list))


# ---------------------------------------------------------------------------
# urls
# ---------------------------------------------------------------------------


def get_url(uri: str | None = None, full_address: bool = False) -> str:
	"""The site's URL (conf host_name, else http://<site>), joined with `uri`."""
	conf = _conf()
	host_name = conf.host_name or conf.hostname

	if uri and (uri.startswith("http://") or uri.startswith("https://")):
		return uri

	if not host_name:
		request_host_name = get_host_name_from_request()
		site = _local("site")

		if request_host_name:
			host_name = request_host_name

		elif site:
			protocol = "http://"

			if conf.ssl_certificate:
				protocol = "https://"

			elif conf.wildcard:
				domain = conf.wildcard.get("domain")
				if domain and site.endswith(domain) and conf.wildcard.get("ssl_certificate"):
					protocol = "https://"

			host_name = protocol + site

		else:
			host_name = "http://127.0.0.1"

	if host_name and not (host_name.startswith("http://") or host_name.startswith("https://")):
		host_name = "http://" + host_name

	port = conf.http_port or conf.webserver_port

	if (
		not (conf.restart_supervisor_on_update or conf.restart_systemd_on_update)
		and host_name
		and not url_contains_port(host_name)
		and port
	):
		host_name = host_name + ":" + str(port)

	return urljoin(host_name, uri) if uri else host_name


def get_host_name_from_request() -> str:
	request = _local("request")
	if request and getattr(request, "host", None):
		headers = getattr(request, "headers", None) or {}
		protocol = "https://" if headers.get("X-Forwarded-Proto", "") == "https" else "http://"
		return protocol + request.host


def url_contains_port(url: str) -> bool:
	return len(url.split(":")) > 2


def get_host_name() -> str:
	return get_url().rsplit("//", 1)[-1]


def _slug(name):
	return name.lower().replace(" ", "-")


def get_link_to_form(doctype: str, name: str, label: str | None = None) -> str:
	if not label:
		label = name
	return f"""<a href="{get_url_to_form(doctype, name)}">{label}</a>"""


def get_absolute_url(doctype: str, name: str) -> str:
	return f"/app/{quoted(_slug(doctype))}/{quoted(name)}"


def get_url_to_form(doctype: str, name: str) -> str:
	return get_url(uri=f"/app/{quoted(_slug(doctype))}/{quoted(name)}")


def get_url_to_list(doctype: str) -> str:
	return get_url(uri=f"/app/{quoted(_slug(doctype))}")


def get_url_to_report(name, report_type: str | None = None, doctype: str | None = None) -> str:
	if report_type == "Report Builder":
		return get_url(uri=f"/app/{quoted(_slug(doctype))}/view/report/{quoted(name)}")
	return get_url(uri=f"/app/query-report/{quoted(name)}")


def scrub_urls(html: str) -> str:
	return expand_relative_urls(html)


def expand_relative_urls(html: str) -> str:
	url = get_url()
	if url.endswith("/"):
		url = url[:-1]

	def _expand_relative_urls(match):
		to_expand = list(match.groups())

		if not to_expand[2].startswith(("mailto", "data:", "tel:")):
			if not to_expand[2].startswith("/"):
				to_expand[2] = "/" + to_expand[2]
			to_expand.insert(2, url)

		if "url" in to_expand[0] and to_expand[1].startswith("(") and to_expand[-1].endswith(")"):
			to_expand.append(" !important")

		return "".join(to_expand)

	html = URLS_NOT_HTTP_TAG_PATTERN.sub(_expand_relative_urls, html)
	html = URL_NOTATION_PATTERN.sub(_expand_relative_urls, html)
	return html


def quoted(url: str) -> str:
	return cstr(quote(encode(cstr(url)), safe=b"~@#$&()*!+=:;,.?/'"))


def quote_urls(html: str) -> str:
	def _quote_url(match):
		groups = list(match.groups())
		groups[2] = quoted(groups[2])
		return "".join(groups)

	return URLS_HTTP_TAG_PATTERN.sub(_quote_url, html)


# ---------------------------------------------------------------------------
# misc
# ---------------------------------------------------------------------------


def unique(seq: typing.Sequence) -> list:
	"""Unique elements of a list, keeping their order"""
	seen = set()
	seen_add = seen.add
	return [x for x in seq if not (x in seen or seen_add(x))]


def strip(val: str, chars: str | None = None) -> str:
	# \ufeff is no-width-break, \u200b is no-width-space
	return (val or "").replace("\ufeff", "").replace("\u200b", "").strip(chars)


def get_string_between(start: str, string: str, end: str) -> str:
	if not string:
		return ""
	out = re.search(f"{start}(.*){end}", string)
	return out.group(1) if out else string


def is_subset(list_a: list, list_b: list) -> bool:
	"""Whether list_a is a subset of list_b"""
	return len(list(set(list_a) & set(list_b))) == len(list_a)


def generate_hash(*args, **kwargs) -> str:
	gen = getattr(frappe, "generate_hash", None)
	if gen is not None:
		return gen(*args, **kwargs)
	import secrets

	length = kwargs.get("length") or (args[1] if len(args) > 1 else None) or 56
	return secrets.token_hex(math.ceil(length / 2))[:length]


def sha256_hash(input: str | bytes) -> str:
	if isinstance(input, str):
		input = input.encode()
	return hashlib.sha256(input).hexdigest()


def dict_with_keys(dict, keys):
	"""Return a new dict with a subset of keys"""
	out = {}
	for key in dict:
		if key in keys:
			out[key] = dict[key]
	return out


def validate_json_string(string: str) -> None:
	try:
		json.loads(string)
	except (TypeError, ValueError):
		raise getattr(frappe, "ValidationError", ValueError)


def get_job_name(key: str, doctype: str | None = None, doc_name: str | None = None) -> str:
	job_name = key
	if doctype:
		job_name += f"_{doctype}"
	if doc_name:
		job_name += f"_{doc_name}"
	return job_name
