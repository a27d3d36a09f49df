// Copyright (c) 2026, MyApp Contributors and contributors
// For license information, please see license.txt

frappe.ui.form.on("Maintenance Settings", {
	refresh(frm) {
		frm.add_custom_button(__("Scheduled Job Logs"), async () => {
			// v15 names a job type after the last two parts of its method ("tasks.daily_cleanup"),
			// so the app's types are found by their method
			const job_types = await frappe.db.get_list("Scheduled Job Type", {
				filters: { method: ["like", "myapp.%"] },
				pluck: "name",
				limit: 100,
			});
			frappe.set_route("List", "Scheduled Job Log", {
				scheduled_job_type: ["in", job_types],
			});
		});
	},
});
