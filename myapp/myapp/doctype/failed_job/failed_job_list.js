// Copyright (c) 2026, MyApp Contributors and contributors
// For license information, please see license.txt

frappe.listview_settings["Failed Job"] = {
	get_indicator(doc) {
		const colors = {
			Open: "red",
			Retrying: "orange",
			Retried: "blue",
			Resolved: "green",
			Ignored: "gray",
		};
		return [__(doc.status), colors[doc.status] || "gray", "status,=," + doc.status];
	},

	onload(listview) {
		if (!frappe.user.has_role("System Manager")) return;
		listview.page.add_actions_menu_item(__("Retry"), () => {
			const names = listview.get_checked_items(true);
			if (!names.length) return;
			frappe.confirm(__("Retry {0} failed job(s) now?", [names.length]), () =>
				frappe.call({
					method: "myapp.api.retry_failed_jobs",
					type: "POST",
					args: { names: names },
					freeze: true,
					callback: (r) => {
						const result = r.message || {};
						frappe.show_alert({
							message: result.message,
							indicator: result.errors && result.errors.length ? "orange" : "green",
						});
						listview.refresh();
					},
				})
			);
		});
	},
};
