// External sync (myapp.sync): the sync status on a submitted Sales Order, and "Retry Sync".
frappe.ui.form.on("Sales Order", {
	refresh(frm) {
		const status = frm.doc.custom_sync_status;
		if (frm.doc.docstatus !== 1 || !status) return;

		const colors = {
			Pending: "blue",
			Synced: "green",
			"Retry Pending": "orange",
			Failed: "red",
			Error: "red",
		};
		if (["Failed", "Error", "Retry Pending"].includes(status)) {
			let intro = __("External sync: {0}", [__(status)]);
			if (frm.doc.custom_sync_error) {
				intro += " - " + frappe.utils.escape_html(frm.doc.custom_sync_error);
			}
			if (status === "Retry Pending" && frm.doc.custom_next_sync_at) {
				intro +=
					" " +
					__("(next attempt {0})", [frappe.datetime.str_to_user(frm.doc.custom_next_sync_at)]);
			}
			frm.set_intro(intro, colors[status]);

			frm.add_custom_button(__("Retry Sync"), () => {
				frappe.call({
					method: "myapp.api.retry_order_sync",
					type: "POST",
					args: { name: frm.doc.name },
					freeze: true,
					callback(r) {
						if (r.message) {
							frappe.show_alert({ message: r.message.message, indicator: "green" });
						}
						frm.reload_doc();
					},
				});
			});
		}
	},
});
