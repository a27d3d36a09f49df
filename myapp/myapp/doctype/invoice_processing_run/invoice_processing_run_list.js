// Copyright (c) 2026, MyApp Contributors and contributors
// For license information, please see license.txt

frappe.listview_settings["Invoice Processing Run"] = {
	get_indicator(doc) {
		const colors = {
			Queued: "blue",
			Running: "orange",
			Completed: "green",
			"Completed with Errors": "orange",
			Failed: "red",
		};
		return [__(doc.status), colors[doc.status] || "gray", "status,=," + doc.status];
	},

	onload(listview) {
		if (!frappe.user.has_role(["System Manager", "Accounts Manager"])) return;
		listview.page.add_inner_button(__("Process Draft Invoices"), () => {
			frappe.confirm(
				__("Process every unprocessed draft Sales Invoice in background batches?"),
				() =>
					frappe.call({
						method: "myapp.api.start_invoice_processing",
						type: "POST",
						callback: (r) => {
							const result = r.message || {};
							frappe.show_alert({ message: result.message, indicator: "green" });
							if (result.run) frappe.set_route("Form", "Invoice Processing Run", result.run);
						},
					})
			);
		});
	},
};
