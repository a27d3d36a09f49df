"""Data of the "Failed Jobs by Method" chart on the Background Jobs workspace: per method, the
failed jobs whose last failure was in the last 7 days (myapp.job_center.failures_by_method)."""

import frappe

from myapp.job_center import failures_by_method


@frappe.whitelist()
def get(
	chart_name=None,
	chart=None,
	no_cache=None,
	filters=None,
	from_date=None,
	to_date=None,
	timespan=None,
	time_interval=None,
	heatmap_year=None,
):
	return failures_by_method()
