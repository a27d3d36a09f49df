// Copyright (c) 2026, MyApp Contributors and contributors
// For license information, please see license.txt

frappe.ui.form.on("Expiry Rule", {
	refresh(frm) {
		frm.trigger("load_field_options");
		if (!frm.is_new()) {
			frm.add_custom_button(__("Reminders Sent"), () => {
				frappe.set_route("List", "Expiry Notification Log", {
					reference_doctype: frm.doc.document_type,
				});
			});
		}
	},

	document_type(frm) {
		frm.set_value("date_field", "");
		frm.set_value("user_field", "");
		frm.trigger("load_field_options");
	},

	load_field_options(frm) {
		const doctype = frm.doc.document_type;
		if (!doctype) {
			return;
		}
		// the rule's Select options are the target DocType's Date/Datetime and Link-to-User fields
		frappe.model.with_doctype(doctype, () => {
			const fields = frappe.get_meta(doctype).fields;
			const option = (df) => ({ value: df.fieldname, label: __(df.label || df.fieldname) });
			const date_fields = fields.filter((df) => ["Date", "Datetime"].includes(df.fieldtype));
			const user_fields = fields.filter((df) => df.fieldtype === "Link" && df.options === "User");
			frm.set_df_property("date_field", "options", [""].concat(date_fields.map(option)));
			frm.set_df_property(
				"user_field",
				"options",
				[{ value: "", label: __("Owner") }].concat(user_fields.map(option))
			);
		});
	},
});
