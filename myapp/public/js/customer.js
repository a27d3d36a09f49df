// Workflow 3 (myapp.export): "Export All Customers" of this customer's group, as a private CSV.
// The export runs in the background as this user; the download link arrives as a message.
frappe.ui.form.on("Customer", {
	refresh(frm) {
		if (frm.is_new()) return;
		frm.add_custom_button(
			__("Export All Customers"),
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
