frappe.provide("frappe.dashboards.chart_sources");

frappe.dashboards.chart_sources["Failed Jobs by Method"] = {
	method: "myapp.myapp.dashboard_chart_source.failed_jobs_by_method.failed_jobs_by_method.get",
	filters: [],
};
