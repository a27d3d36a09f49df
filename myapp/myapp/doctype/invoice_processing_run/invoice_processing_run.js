// Copyright (c) 2026, MyApp Contributors and contributors
// For license information, please see license.txt

// Workflow 4 (myapp.invoices): the jobs write the counters; the form shows them while the run goes on.
const ACTIVE_STATUSES = ["Queued", "Running"];

frappe.ui.form.on("Invoice Processing Run", {
	setup(frm) {
		// once per form (setup runs once; the form object is reused for every document): the
		// batches send this after committing counters, and the last one after the final status
		frappe.realtime.on("myapp_doc_update", (data) => {
			if (data && data.doctype === frm.doctype && data.name === frm.doc?.name && !frm.is_dirty()) {
				frm.reload_doc();
			}
		});
	},

	refresh(frm) {
		const doc = frm.doc;
		// runs are started from the list ("Process Draft Invoices"), never typed in by hand
		if (frm.is_new()) return;
		const done = (doc.processed || 0) + (doc.errors || 0);
		if (doc.total) {
			const percent = Math.min(100, (done * 100) / doc.total);
			frm.dashboard.add_progress(
				__("Invoices"),
				percent,
				__("{0} processed, {1} failed, of {2}", [doc.processed || 0, doc.errors || 0, doc.total])
			);
		}
		if (doc.failure) {
			frm.set_intro(frappe.utils.escape_html(doc.failure), "red");
		} else if (ACTIVE_STATUSES.includes(doc.status)) {
			frm.set_intro(__("This run is in progress."), "blue");
		}

		if (ACTIVE_STATUSES.includes(doc.status)) {
			// resumes the run when its jobs are gone (a killed worker), else says it is running
			frm.add_custom_button(__("Resume"), () => {
				frappe.call({
					method: "myapp.api.start_invoice_processing",
					type: "POST",
					freeze: true,
					callback: (r) => {
						if (r.message) frappe.show_alert({ message: r.message.message, indicator: "blue" });
						frm.reload_doc();
					},
				});
			});
		}
		frm.add_custom_button(__("Sales Invoices"), () => {
			frappe.set_route("List", "Sales Invoice", { custom_processing_run: doc.name });
		});
		// Error Log is for System Managers: an Accounts Manager would only get "Not permitted"
		if (doc.errors && frappe.model.can_read("Error Log")) {
			frm.add_custom_button(__("Error Logs"), () => {
				frappe.set_route("List", "Error Log", {
					method: ["like", `Invoice processing: % in run ${doc.name}`],
				});
			});
		}
	},
});
