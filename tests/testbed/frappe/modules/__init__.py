"""frappe.modules: importing the records an app ships as JSON in its module folders."""
