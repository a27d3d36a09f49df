frappe.provide("frappe.dashboards.chart_sources");

frappe.dashboards.chart_sources["Failed Jobs by Method"] = {
	method: "myapp.api.failed_jobs_by_method_chart",
	filters: [],
};
