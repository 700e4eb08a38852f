# Access grants (idp_access).
package main

import data.lib.idp

# cluster-admin is full control of a cluster: only the platform team grants it.
deny_cluster_admin contains idp.result(rc, ["role"], msg) if {
	some rc in idp.changes
	rc.type == "idp_access"
	idp.after(rc, ["role"]) == "cluster-admin"
	team := object.get(idp.context, "team", "")
	team != idp.settings.platform_team
	msg := sprintf(
		"cluster-admin on cluster %s is reserved for the %s team and %s: grant admin on the team's namespaces instead (role = \"admin\", namespaces = [...]), or have the %s team make this grant",
		[access_cluster(rc), idp.settings.platform_team, caller(team), idp.settings.platform_team],
	)
}

access_cluster(rc) := sprintf("%q", [idp.after(rc, ["cluster"])]) if {
	is_string(idp.after(rc, ["cluster"]))
} else := "(known at apply)"

caller(team) := sprintf("this plan runs for team %q", [team]) if {
	team != ""
} else := "this plan names no team (idp.team)"

checked contains [rc, ["role"]] if {
	some rc in idp.changes
	rc.type == "idp_access"
}
