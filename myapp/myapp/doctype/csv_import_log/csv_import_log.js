// Copyright (c) 2026, MyApp Contributors and contributors
// For license information, please see license.txt

// Example 3 + workflow 7 (myapp.importer): upload a CSV or .xlsx file, pick the DocType, "update
// existing", the workers (or "in file order"), then Start Import; Retry Failed Rows and Download
// Failed Rows once it has finished.
frappe.ui.form.on("CSV Import Log", {
	setup(frm) {
		// the DocTypes Frappe's own Data Import offers this user, without the core DocTypes the
		// import refuses to everyone (a System Manager's list has every DocType that allows
		// import, Custom Field among them): myapp.boot
		const refused = frappe.boot.myapp_import_refused_doctypes || [];
		frm.set_query("reference_doctype", () => ({
			filters: {
				istable: 0,
				issingle: 0,
				name: [
					"in",
					(frappe.boot.user.can_import || []).filter((dt) => !refused.includes(dt)),
				],
			},
		}));
		// once per form (setup runs once; the form object is reused for every document): the
		// job sends this after committing counters and after writing the final status
		frappe.realtime.on("myapp_doc_update", (data) => {
			if (data && data.doctype === frm.doctype && data.name === frm.doc?.name && !frm.is_dirty()) {
				frm.reload_doc();
			}
		});
	},

	refresh(frm) {
		const status = frm.doc.status;
		const colors = {
			"Not Started": "gray",
			Queued: "blue",
			Running: "orange",
			Success: "green",
			"Completed with Errors": "orange",
			Error: "red",
		};
		if (frm.doc.error_message) {
			frm.set_intro(frappe.utils.escape_html(frm.doc.error_message), "red");
		} else if (status === "Running" && frm.doc.total_rows) {
			frm.set_intro(
				__("{0} of {1} rows processed, on {2} worker(s)", [
					frm.doc.processed_rows || 0,
					frm.doc.total_rows,
					frm.doc.workers_used || 1,
				]),
				colors[status]
			);
		}
		if (frm.doc.order_note && ["Running", "Success", "Completed with Errors"].includes(status)) {
			// why several workers were asked for and one imported the file, in file order
			frm.set_intro(frappe.utils.escape_html(frm.doc.order_note), "blue");
		}
		if (frm.is_new()) return;

		const can_start = ["Not Started", "Queued", "Running", "Error"].includes(status);
		if (can_start && frm.doc.import_file) {
			const label = frm.doc.processed_rows ? __("Resume Import") : __("Start Import");
			frm.add_custom_button(label, () => start(frm, false)).addClass("btn-primary");
		}
		if (status === "Completed with Errors" && frm.doc.error_count) {
			frm.add_custom_button(__("Retry Failed Rows"), () => start(frm, true));
		}
		if (frm.doc.error_count) {
			frm.add_custom_button(__("Download Failed Rows"), () => {
				frappe.call({
					method: "myapp.api.download_failed_rows",
					type: "POST",
					args: { import_log: frm.doc.name },
					freeze: true,
					callback(r) {
						if (r.message && r.message.file_url) {
							window.open(r.message.file_url, "_blank");
						}
					},
				});
			});
		}
	},
});

function start(frm, retry_failed_rows) {
	const call = () =>
		frappe.call({
			method: "myapp.api.start_import",
			type: "POST",
			args: { import_log: frm.doc.name, retry_failed_rows: retry_failed_rows ? 1 : 0 },
			freeze: true,
			callback(r) {
				if (r.message) {
					frappe.show_alert({ message: r.message.message, indicator: "blue" });
				}
				frm.reload_doc();
			},
		});
	// settings edited in the form are saved before the job reads them
	if (frm.is_dirty()) {
		frm.save().then(call);
	} else {
		call();
	}
}
