# Tests of the helpers, and the builders the other tests share.
package lib.idp_test

import data.lib.idp

# create(type, after) is a planned create of type's resource "this" with the planned values after.
create(type, after) := {
	"address": sprintf("%s.this", [type]),
	"mode": "managed",
	"type": type,
	"name": "this",
	"change": {"actions": ["create"], "before": null, "after": after, "after_unknown": {}},
}

# with_actions(rc, actions) is rc planned with other actions; a delete has no planned values.
with_actions(rc, actions) := object.union(rc, {"change": {"actions": actions, "after": null}}) if {
	actions == ["delete"]
} else := object.union(rc, {"change": {"actions": actions}})

# with_unknown(rc, unknown) is rc with after_unknown set to unknown.
with_unknown(rc, unknown) := object.union(rc, {"change": {"after_unknown": unknown}})

# plan(changes, context) is the input of a plan of changes for a caller with context.
plan(changes, context) := {"resource_changes": changes, "idp": context}

test_changes_are_creates_and_updates_of_managed_resources if {
	app := create("idp_app", {})
	changes := idp.changes with input as plan(
		[
			app,
			object.union(with_actions(app, ["update"]), {"address": "idp_app.updated"}),
			object.union(with_actions(app, ["delete", "create"]), {"address": "idp_app.replaced"}),
			object.union(with_actions(app, ["delete"]), {"address": "idp_app.deleted"}),
			object.union(with_actions(app, ["no-op"]), {"address": "idp_app.unchanged"}),
			object.union(with_actions(app, ["read"]), {"address": "data.idp_app.read", "mode": "data"}),
		],
		{},
	)
	{rc.address | some rc in changes} == {"idp_app.this", "idp_app.updated", "idp_app.replaced"}
}

test_unknown_covers_values_inside_an_unknown_one if {
	rc := with_unknown(create("idp_cluster", {}), {"node_pools": true, "tags": {"team": true}})
	idp.unknown(rc, ["node_pools", "default", "max_size"])
	idp.unknown(rc, ["tags", "team"])
	not idp.unknown(rc, ["tags"])
	not idp.unknown(rc, ["tags", "cost-center"])
	idp.unknown_at(rc, ["node_pools"])
	not idp.unknown_at(rc, ["node_pools", "default"])
}

test_unknown_without_after_unknown if {
	rc := json.remove(create("idp_cluster", {"tags": {}}), ["change/after_unknown"])
	not idp.unknown(rc, ["tags"])
}

test_after_is_undefined_for_null_and_missing_values if {
	rc := create("idp_access", {"role": null})
	not idp.after(rc, ["role"])
	not idp.after(rc, ["members", "0"])
	idp.object_after(rc, ["role"]) == {}
}

test_context_prefers_input_over_data if {
	context := idp.context with input as {"idp": {"team": "payments"}} with data.idp as {"team": "platform", "identity": "ci"}
	context == {"team": "payments", "identity": "ci"}
}

test_environment_from_context_then_label_then_tag if {
	rc := create("idp_cluster", {"tags": {"environment": "staging"}})
	idp.environment(rc) == "production" with input as {"idp": {"cluster": {"environment": "production", "labels": {"platform.idp.dev/environment": "qa"}}}}
	idp.environment(rc) == "qa" with input as {"idp": {"cluster": {"labels": {"platform.idp.dev/environment": "qa"}}}}
	idp.environment(rc) == "production" with input as {} with data.idp as {"cluster": {"environment": "production"}}
	idp.environment(rc) == "staging" with input as {}
	idp.environment(create("idp_app", {"tags": {"environment": "staging"}})) == "" with input as {}
}

test_settings_merge_over_the_defaults if {
	settings := idp.settings with data.idp_policy as {"platform_team": "sre", "max_pool_nodes": {"production": 80}}
	settings.platform_team == "sre"
	settings.max_pool_nodes == {"production": 80, "staging": 20, "default": 10}
	settings.required_tags == idp.default_settings.required_tags
}

test_limit_falls_back_to_the_default if {
	idp.limit({"production": 50, "default": 10}, "production") == 50
	idp.limit({"production": 50, "default": 10}, "qa") == 10
	idp.limit({"production": 50, "default": 10}, "") == 10
}

test_result_names_the_resource_when_it_has_an_address if {
	idp.result(create("idp_app", {}), ["chart"], "use a catalog chart") == {"msg": "idp_app.this: use a catalog chart", "path": ["chart"]}
	idp.result(json.remove(create("idp_app", {}), ["address"]), [], "x") == {"msg": "x", "path": []}
}
