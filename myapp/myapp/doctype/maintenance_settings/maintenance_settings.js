// Copyright (c) 2026, MyApp Contributors and contributors
// For license information, please see license.txt

frappe.ui.form.on("Maintenance Settings", {
	refresh(frm) {
		frm.add_custom_button(__("Scheduled Job Logs"), () => {
			frappe.set_route("List", "Scheduled Job Log", {
				scheduled_job_type: ["like", "%myapp.%"],
			});
		});
	},
});
