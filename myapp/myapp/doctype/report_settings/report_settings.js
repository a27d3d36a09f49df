// Copyright (c) 2026, MyApp Contributors and contributors
// For license information, please see license.txt

frappe.ui.form.on("Report Settings", {
	refresh(frm) {
		frm.add_custom_button(__("Digest Subscribers"), () => {
			frappe.set_route("List", "User", { enabled: 1, custom_weekly_digest: 1 });
		});
	},
});
