"""Pure helpers of frappe.utils (v15 semantics). No database needed: these run the same against the
testbed's frappe and a real bench's frappe, so any difference is a testbed bug."""

import datetime
import sys

import pytest
from frappe.utils import (
	DATE_FORMAT,
	DATETIME_FORMAT,
	TIME_FORMAT,
	CallbackManager,
	add_days,
	add_months,
	add_to_date,
	add_years,
	cast,
	cint,
	comma_and,
	cstr,
	date_diff,
	escape_html,
	flt,
	fmt_money,
	format_date,
	format_datetime,
	format_time,
	get_date_str,
	get_datetime,
	get_datetime_str,
	get_first_day,
	get_last_day,
	get_timestamp,
	get_traceback,
	get_url,
	get_url_to_form,
	get_weekday,
	getdate,
	is_html,
	now,
	now_datetime,
	nowdate,
	nowtime,
	parse_val,
	random_string,
	rounded,
	sbool,
	split_emails,
	strip_html,
	time_diff,
	time_diff_in_hours,
	time_diff_in_seconds,
	today,
	validate_email_address,
)

# pure functions: no site, no database
pytestmark = pytest.mark.no_site


def test_format_constants():
	assert DATE_FORMAT == "%Y-%m-%d"
	assert TIME_FORMAT == "%H:%M:%S.%f"
	assert DATETIME_FORMAT == "%Y-%m-%d %H:%M:%S.%f"


def test_getdate_accepts_str_date_datetime_and_none():
	assert getdate("2024-02-29") == datetime.date(2024, 2, 29)
	assert getdate(datetime.datetime(2024, 1, 2, 3, 4)) == datetime.date(2024, 1, 2)
	assert getdate(datetime.date(2024, 1, 2)) == datetime.date(2024, 1, 2)
	assert isinstance(getdate(), datetime.date)
	assert getdate("0000-00-00") is None
	assert getdate("02-01-2024", parse_day_first=True) == datetime.date(2024, 1, 2)


def test_get_datetime():
	assert get_datetime("2024-01-02 03:04:05.000006") == datetime.datetime(2024, 1, 2, 3, 4, 5, 6)
	assert get_datetime("2024-01-02 03:04:05") == datetime.datetime(2024, 1, 2, 3, 4, 5)
	assert get_datetime(datetime.date(2024, 1, 2)) == datetime.datetime(2024, 1, 2)
	dt = datetime.datetime(2024, 1, 2, 3)
	assert get_datetime(dt) is dt
	assert isinstance(get_datetime(), datetime.datetime)
	assert get_datetime("") is None


def test_date_and_datetime_strings():
	assert get_date_str("2024-01-02 03:04:05") == "2024-01-02"
	assert get_date_str(datetime.date(2024, 1, 2)) == "2024-01-02"
	assert get_datetime_str("2024-01-02 03:04:05") == "2024-01-02 03:04:05.000000"


def test_now_helpers_agree():
	n = now_datetime()
	assert n.tzinfo is None
	assert nowdate() == today()
	assert abs((get_datetime(now()) - n).total_seconds()) < 5
	assert getdate(nowdate()) in (n.date(), (n + datetime.timedelta(seconds=5)).date())
	assert len(nowtime().split(":")) == 3
	assert len(now()) == len("2024-01-02 03:04:05.000006")


def test_add_to_date_keeps_the_input_type():
	assert add_days("2024-01-31", 1) == "2024-02-01"
	assert add_days(datetime.date(2024, 1, 31), -31) == datetime.date(2023, 12, 31)
	assert add_months("2024-01-31", 1) == "2024-02-29"
	assert add_years("2024-02-29", 1) == "2025-02-28"
	assert add_to_date("2024-01-01 10:00:00", hours=2) == "2024-01-01 12:00:00.000000"
	assert add_to_date(datetime.datetime(2024, 1, 1), minutes=90) == datetime.datetime(2024, 1, 1, 1, 30)
	assert add_to_date("2024-01-01", days=1, as_datetime=True) == "2024-01-02 00:00:00.000000"
	assert isinstance(add_to_date(None, days=1), datetime.datetime)


def test_differences():
	assert date_diff("2024-03-01", "2024-02-01") == 29
	assert date_diff(datetime.datetime(2024, 1, 2, 23), "2024-01-01") == 1
	assert time_diff("2024-01-01 01:00:00", "2024-01-01 00:00:00") == datetime.timedelta(hours=1)
	assert time_diff_in_seconds("2024-01-01 00:01:00", "2024-01-01 00:00:00") == 60
	assert time_diff_in_hours("2024-01-01 01:30:00", "2024-01-01 00:00:00") == 1.5


def test_month_bounds_and_weekday():
	assert get_first_day("2024-02-15") == datetime.date(2024, 2, 1)
	assert get_first_day("2024-12-15", d_months=1) == datetime.date(2025, 1, 1)
	assert get_first_day("2024-02-15", as_str=True) == "2024-02-01"
	assert get_last_day("2024-02-15") == datetime.date(2024, 2, 29)
	assert get_last_day("2023-12-01") == datetime.date(2023, 12, 31)
	assert get_weekday(datetime.datetime(2024, 1, 1)) == "Monday"
	assert get_timestamp("2024-01-01") == datetime.datetime(2024, 1, 1).timestamp()


def test_cint_flt_cstr():
	assert cint("100") == 100
	assert cint("12.7") == 12
	assert cint("a") == 0
	assert cint(None, default=5) == 5
	assert cint(True) == 1
	assert flt("10,500.5666", 2) == 10500.57
	assert flt("a") == 0.0
	assert flt(None) == 0.0
	assert flt("43.5", precision=0) == 44
	assert flt(1.23456, 3) == 1.235
	assert cstr(None) == ""
	assert cstr(b"abc") == "abc"
	assert cstr(12) == "12"


def test_rounded_methods():
	assert rounded(2.675, 2, "Commercial Rounding") == 2.68
	assert rounded(2.5, 0, "Banker's Rounding") == 2
	assert rounded(3.5, 0, "Banker's Rounding") == 4
	assert rounded(-2.5, 0, "Commercial Rounding") == -3
	assert rounded(42.5, 0, "Banker's Rounding (legacy)") == 42


def test_sbool_and_cast():
	assert sbool("true") is True
	assert sbool("0") is False
	assert sbool("{}") == "{}"
	assert sbool(None) is None
	assert cast("Int", "1") == 1
	assert cast("Check", "true") == 1
	assert cast("Float", "2.5") == 2.5
	assert cast("Data", None) == ""
	assert cast("Date", "2024-01-02") == datetime.date(2024, 1, 2)
	assert cast("Date", None) == datetime.date(1, 1, 1)
	assert cast("Datetime", "2024-01-02 03:04:05") == datetime.datetime(2024, 1, 2, 3, 4, 5)
	assert cast("Time", "10:30:00") == datetime.timedelta(hours=10, minutes=30)


def test_html_helpers():
	assert escape_html("<a href='x'>&</a>") == "&lt;a href=&apos;x&apos;&gt;&amp;&lt;/a&gt;"
	assert escape_html(5) == 5
	assert strip_html("<p>Hello <b>you</b></p><!-- c -->") == "Hello you"
	assert is_html("<p>x</p>")
	assert not is_html("a < b")
	assert not is_html(None)


def test_email_helpers():
	assert validate_email_address("a@example.com") == "a@example.com"
	assert (
		validate_email_address("John <john@example.com>, bad, b@example.org")
		== "john@example.com, b@example.org"
	)
	assert validate_email_address("not an email") == ""
	assert split_emails("a@example.com, b@example.com,c@example.com") == [
		"a@example.com",
		"b@example.com",
		"c@example.com",
	]
	# v15 turns newlines into spaces before splitting on commas
	assert split_emails('"Doe, John" <j@example.com>\nk@example.com') == [
		'"Doe, John" <j@example.com> k@example.com'
	]


def test_comma_and_parse_val():
	assert comma_and(["a", "b", "c"]) == "'a', 'b' and 'c'"
	assert comma_and(["a", "b"], add_quotes=False) == "a and b"
	assert comma_and(["a"]) == "a"
	assert comma_and([]) == ""
	assert parse_val(datetime.date(2024, 1, 2)) == "2024-01-02"
	assert parse_val(datetime.timedelta(hours=10, minutes=5)) == "10:05"


def test_fmt_money_with_explicit_format():
	assert fmt_money(1234567.891, precision=2, format="#,###.##") == "1,234,567.89"
	assert fmt_money(-1234.5, precision=2, format="#.###,##") == "-1.234,50"
	assert fmt_money(1234567, precision=2, format="#,##,###.##") == "12,34,567.00"
	assert fmt_money(0, precision=2, format="#,###.##") == "0.00"
	assert fmt_money("1000", precision=0, format="#,###") == "1,000"


def test_format_date_time_with_explicit_formats():
	assert format_date("2024-01-02", "dd-mm-yyyy") == "02-01-2024"
	assert format_date("2024-01-02", "mm/dd/yyyy") == "01/02/2024"
	assert format_date(None) == ""
	assert format_time("13:05:09", "HH:mm") == "13:05"
	assert format_datetime("2024-01-02 13:05:09", "dd.MM.yyyy HH:mm:ss") == "02.01.2024 13:05:09"


def test_urls():
	url = get_url()
	assert url.startswith(("http://", "https://"))
	assert get_url("/app/todo") == url.rstrip("/") + "/app/todo"
	assert get_url("https://example.com/x") == "https://example.com/x"
	assert get_url_to_form("Sales Order", "SO 1").endswith("/app/sales-order/SO%201")


def test_random_string():
	s = random_string(12)
	assert len(s) == 12 and s.isalnum()
	assert random_string(12) != s


def test_get_traceback():
	assert get_traceback() == ""
	try:
		raise ValueError("boom")
	except ValueError:
		tb = get_traceback()
	assert "ValueError: boom" in tb
	assert "Traceback" in tb
	assert sys.exc_info() == (None, None, None)


def test_callback_manager():
	calls = []
	cm = CallbackManager()
	cm.add(lambda: calls.append(1))
	cm(lambda: calls.append(2))
	cm.run()
	assert calls == [1, 2]
	cm.run()
	assert calls == [1, 2]
	cm.add(lambda: calls.append(3))
	cm.reset()
	cm.run()
	assert calls == [1, 2]


@pytest.mark.parametrize(
	"value, expected",
	[
		("2024-01-02", "02-01-2024"),
		(datetime.date(2024, 1, 2), "02-01-2024"),
		(datetime.datetime(2024, 1, 2, 5), "02-01-2024"),
	],
)
def test_format_date_inputs(value, expected):
	assert format_date(value, "dd-mm-yyyy") == expected
