// Copyright (c) 2026, MyApp Contributors and contributors
// For license information, please see license.txt

frappe.ui.form.on("Failed Job", {
	refresh(frm) {
		if (frm.is_new() || !frappe.user.has_role("System Manager")) return;
		frm.add_custom_button(__("Retry"), () => retry(frm), __("Actions"));
		frm.add_custom_button(
			__("Retry with Edited Arguments"),
			() => retry_with_edited_arguments(frm),
			__("Actions")
		);
		if (["Open", "Retrying", "Retried"].includes(frm.doc.status)) {
			frm.add_custom_button(__("Ignore"), () => set_status(frm, "Ignored"), __("Actions"));
			frm.add_custom_button(__("Mark Resolved"), () => set_status(frm, "Resolved"), __("Actions"));
		}
		if (frm.doc.error_log) {
			frm.add_custom_button(__("Error Log"), () =>
				frappe.set_route("Form", "Error Log", frm.doc.error_log)
			);
		}
	},
});

function retry(frm, args) {
	return frappe.call({
		method: "myapp.api.retry_failed_job",
		type: "POST",
		args: { name: frm.doc.name, arguments: args },
		freeze: true,
		callback: (r) => {
			frappe.show_alert({ message: r.message.message, indicator: "green" });
			frm.reload_doc();
		},
	});
}

function retry_with_edited_arguments(frm) {
	const dialog = new frappe.ui.Dialog({
		title: __("Retry with Edited Arguments"),
		fields: [
			{
				fieldname: "arguments",
				fieldtype: "Code",
				options: "JSON",
				label: __("Arguments (JSON object)"),
				description: __(
					"Redacted secrets (********) must be typed in again: these arguments replace the job's for this retry."
				),
				default: frm.doc.edited_arguments || frm.doc.arguments || "{}",
				reqd: 1,
			},
		],
		primary_action_label: __("Retry"),
		primary_action(values) {
			try {
				JSON.parse(values.arguments);
			} catch (e) {
				frappe.msgprint(__("The arguments are not valid JSON: {0}", [e.message]));
				return;
			}
			dialog.hide();
			retry(frm, values.arguments);
		},
	});
	dialog.show();
}

function set_status(frm, status) {
	frm.set_value("status", status);
	frm.save();
}
