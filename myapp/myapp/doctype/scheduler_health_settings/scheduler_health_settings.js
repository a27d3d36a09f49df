// Copyright (c) 2026, MyApp Contributors and contributors
// For license information, please see license.txt

frappe.ui.form.on("Scheduler Health Settings", {
	refresh(frm) {
		frm.add_custom_button(__("Health Alerts"), () => {
			frappe.set_route("List", "Error Log", { method: ["like", "Scheduler health%"] });
		});
		frm.add_custom_button(__("Background Workers"), () => {
			frappe.set_route("List", "RQ Worker");
		});
	},
});
