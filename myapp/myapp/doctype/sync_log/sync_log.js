// Copyright (c) 2026, MyApp Contributors and contributors
// For license information, please see license.txt

frappe.ui.form.on("Sync Log", {
	refresh(frm) {
		frm.add_custom_button(__("Sync Settings"), () => frappe.set_route("Form", "Sync Settings"));
	},
});
