package main_test

import data.lib.idp_test.create
import data.lib.idp_test.plan
import data.lib.idp_test.with_actions
import data.main

cluster_admin := create("idp_access", {"cluster": "payments-prod", "group": "payments-oncall", "role": "cluster-admin"})

test_cluster_admin_is_denied_outside_the_platform_team if {
	denials == {["deny_cluster_admin", {
		"msg": "idp_access.this: cluster-admin on cluster \"payments-prod\" is reserved for the platform team and this plan runs for team \"payments\": grant admin on the team's namespaces instead (role = \"admin\", namespaces = [...]), or have the platform team make this grant",
		"path": ["role"],
	}]} with input as plan([cluster_admin], {"team": "payments"})
}

test_cluster_admin_is_denied_when_no_team_is_known if {
	some finding in main.deny_cluster_admin with input as plan([cluster_admin], {})
	contains(finding.msg, "this plan names no team (idp.team)")
}

test_the_platform_team_grants_cluster_admin if {
	count(denials) == 0 with input as plan([cluster_admin], {"team": "platform"})
	count(denials) == 0 with input as {"resource_changes": [cluster_admin]} with data.idp as {"team": "platform"}
}

test_the_platform_team_is_a_setting if {
	count(denials) == 0 with input as plan([cluster_admin], {"team": "sre"}) with data.idp_policy as {"platform_team": "sre"}
	count(main.deny_cluster_admin) == 1 with input as plan([cluster_admin], {"team": "platform"}) with data.idp_policy as {"platform_team": "sre"}
}

test_other_roles_are_granted_by_any_team if {
	every role in ["view", "edit", "admin"] {
		rc := create("idp_access", {"cluster": "payments-prod", "group": "payments", "role": role})
		count(denials) == 0 with input as plan([rc], {"team": "payments"})
	}
}

test_revoking_cluster_admin_is_never_denied if {
	count(denials) == 0 with input as plan([with_actions(cluster_admin, ["delete"])], {"team": "payments"})
}

test_updating_to_cluster_admin_is_denied if {
	count(main.deny_cluster_admin) == 1 with input as plan([with_actions(cluster_admin, ["update"])], {"team": "payments"})
}
