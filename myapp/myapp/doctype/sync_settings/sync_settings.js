// Copyright (c) 2026, MyApp Contributors and contributors
// For license information, please see license.txt

frappe.ui.form.on("Sync Settings", {
	refresh(frm) {
		frm.add_custom_button(__("Sync Log"), () => frappe.set_route("List", "Sync Log"));
		// the sync's orders are ERPNext's Sales Orders: nothing to retry or list without them
		if (!frappe.model.can_read("Sales Order")) return;
		frm.add_custom_button(__("Retry all failed"), () => {
			frappe.confirm(
				__("Put every Sales Order whose sync is Failed or Error back to Pending?"),
				() => {
					frappe.call({
						method: "myapp.api.retry_failed_syncs",
						type: "POST",
						freeze: true,
						callback(r) {
							if (r.message) {
								frappe.show_alert({ message: r.message.message, indicator: "green" });
							}
						},
					});
				}
			);
		});
		frm.add_custom_button(__("Failed Orders"), () =>
			frappe.set_route("List", "Sales Order", {
				custom_sync_status: ["in", ["Failed", "Error"]],
			})
		);
	},
});
