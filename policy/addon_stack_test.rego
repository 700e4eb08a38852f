package main_test

import data.lib.idp_test.create
import data.lib.idp_test.plan
import data.lib.idp_test.with_unknown
import data.main

stack(addons) := create("idp_addon_stack", {"cluster": "payments-prod", "name": "baseline", "addons": addons})

test_production_add_ons_pin_their_version if {
	rc := stack({"ingress": {"version": "4.12.1", "values": null}, "cert_manager": {"version": null, "values": null}})
	warnings == {["warn_unpinned_addon", {
		"msg": "idp_addon_stack.this: add-on \"cert_manager\" in environment \"production\" follows the catalog's default version, which changes with provider upgrades: pin version to one of the idp_addon_catalog data source's versions",
		"path": ["addons", "cert_manager", "version"],
	}]} with input as plan([rc], {"cluster": {"environment": "production"}})
	count(denials) == 0 with input as plan([rc], {"cluster": {"environment": "production"}})
}

test_other_environments_follow_the_catalog if {
	rc := stack({"cert_manager": {"values": null}})
	count(warnings) == 0 with input as plan([rc], {"cluster": {"environment": "staging"}})
}

test_versions_known_only_at_apply_warn_as_unknown if {
	rc := with_unknown(stack({"ingress": {"version": null}}), {"addons": {"ingress": {"version": true}}})
	{[name, finding.path] | some [name, finding] in warnings} == {["warn_unknown", ["addons", "ingress", "version"]]} with input as plan([rc], {"cluster": {"environment": "production"}})
}
