app_name = "frappe"
app_title = "Frappe Framework"
app_publisher = "Frappe Technologies (testbed stand-in)"
app_license = "mit"
