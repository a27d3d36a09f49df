// Workflow 3 (myapp.export): the customers of this customer's group that the user may read, as a
// private CSV. The export runs in the background as this user; the download link arrives as a message.
frappe.ui.form.on("Customer", {
	refresh(frm) {
		if (frm.is_new()) return;
		frm.add_custom_button(
			frm.doc.customer_group
				? __("Export Customers of Group {0}", [frm.doc.customer_group])
				: __("Export All Customers"),
			() => {
				const filters = frm.doc.customer_group ? { customer_group: frm.doc.customer_group } : {};
				frappe.call({
					method: "myapp.api.start_customer_export",
					type: "POST",
					args: { filters: JSON.stringify(filters) },
					freeze: true,
					callback(r) {
						if (r.message) {
							frappe.show_alert({ message: r.message.message, indicator: "blue" });
						}
					},
				});
			},
			__("Actions")
		);
	},
});
