// Background jobs from any list view's menu (Desk): "Export in Background (CSV)" exports the
// records matching the list's filters that the user may read (myapp.api.start_export), and on
// Customer / Sales Invoice lists a report is generated the same way (myapp.api.generate_report).
// Both run as this user on the long queue; the download link arrives as a message.
frappe.provide("myapp.list_menu");

// DocType -> reports of myapp.reports.REPORT_TYPES offered in its list view's menu
myapp.list_menu.reports = {
	Customer: [{ report_type: "customer_list", label: __("Customer List Report (CSV)") }],
	"Sales Invoice": [
		{ report_type: "sales_invoice_register", label: __("Sales Invoice Register (CSV)") },
	],
};

myapp.list_menu.start = function (method, args) {
	return frappe
		.call({ method, type: "POST", args, freeze: true })
		.then((r) => r.message && frappe.show_alert({ message: r.message.message, indicator: "blue" }));
};

myapp.list_menu.items = function (listview) {
	const doctype = listview.doctype;
	// the export right (v15 Report View's Export): without it the endpoints refuse too
	if (!frappe.model.can_export(doctype)) return [];
	const filters = () => JSON.stringify(listview.get_filters_for_args());
	const items = [
		{
			label: __("Export in Background (CSV)"),
			action: () => myapp.list_menu.start("myapp.api.start_export", { doctype, filters: filters() }),
			standard: true,
		},
	];
	for (const report of myapp.list_menu.reports[doctype] || []) {
		items.push({
			label: report.label,
			action: () =>
				myapp.list_menu.start("myapp.api.generate_report", {
					report_type: report.report_type,
					params: JSON.stringify({ filters: listview.get_filters_for_args() }),
				}),
			standard: true,
		});
	}
	return items;
};

// ListView builds its menu from get_menu_items() once per list; v15 has no hook for a menu item
// on every list, so the app's items are appended to what Frappe returns.
if (frappe.views && frappe.views.ListView) {
	const frappe_menu_items = frappe.views.ListView.prototype.get_menu_items;
	frappe.views.ListView.prototype.get_menu_items = function () {
		return frappe_menu_items.call(this).concat(myapp.list_menu.items(this));
	};
}
