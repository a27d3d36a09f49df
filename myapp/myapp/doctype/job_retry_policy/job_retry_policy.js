// Copyright (c) 2026, MyApp Contributors and contributors
// For license information, please see license.txt

frappe.ui.form.on("Job Retry Policy", {
	refresh(frm) {
		if (frm.is_new()) return;
		frm.add_custom_button(__("Failed Jobs"), () =>
			frappe.set_route("List", "Failed Job", { retry_policy: frm.doc.name })
		);
	},
});
