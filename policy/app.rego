# Applications (idp_app).
package main

import data.lib.idp

# Production runs catalog charts (standardized, reviewed by the platform team), or charts from the
# sources the settings approve.
deny_production_chart contains idp.result(rc, ["chart"], msg) if {
	some rc in idp.changes
	rc.type == "idp_app"
	idp.production(rc)
	not chart_unknown(rc)
	chart := idp.object_after(rc, ["chart"])
	count(chart) > 0
	not approved_chart(chart)
	msg := sprintf(
		"%s is not approved for %s: use a catalog chart (chart = { catalog = \"web-service\" }), %s",
		[describe_chart(chart), idp.environment_name(idp.environment(rc)), sources_hint],
	)
}

chart_sources := idp.settings.production_chart_sources

approved_chart(chart) if {
	is_string(chart.catalog)
	chart.catalog != ""
}

approved_chart(chart) if {
	is_string(chart.repository)
	some source in chart_sources
	not startswith(source, "oci://")
	trim_right(chart.repository, "/") == trim_right(source, "/")
}

approved_chart(chart) if {
	is_string(chart.oci)
	some source in chart_sources
	startswith(source, "oci://")
	startswith(chart.oci, concat("", [trim_right(source, "/"), "/"]))
}

describe_chart(chart) := sprintf("the local chart %s", [chart.path]) if {
	is_string(chart.path)
} else := sprintf("chart %s of %s", [object.get(chart, "name", ""), chart.repository]) if {
	is_string(chart.repository)
} else := sprintf("chart %s", [chart.oci]) if {
	is_string(chart.oci)
} else := "the chart"

sources_hint := sprintf("or one from %s", [concat(", ", chart_sources)]) if {
	count(chart_sources) > 0
} else := "or ask the platform team to add the chart to the catalog"

chart_unknown(rc) if idp.unknown(rc, ["chart"])

chart_unknown(rc) if {
	some field in chart_fields
	idp.unknown(rc, ["chart", field])
}

chart_fields := ["catalog", "repository", "oci", "path"]

checked contains [rc, path] if {
	some rc in idp.changes
	rc.type == "idp_app"
	idp.production(rc)
	some path in array.concat([["chart"]], [["chart", field] | some field in chart_fields])
}
