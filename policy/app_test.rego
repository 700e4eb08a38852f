package main_test

import data.lib.idp_test.create
import data.lib.idp_test.plan
import data.lib.idp_test.with_actions
import data.lib.idp_test.with_unknown
import data.main

production := {"team": "payments", "cluster": {"name": "payments-prod", "cloud": "aws", "environment": "production"}}

app(chart) := create("idp_app", {"cluster": "payments-prod", "namespace": "payments", "name": "api", "chart": chart})

repository_chart := {"repository": "https://charts.example.com/stable", "name": "api", "version": "1.2.3"}

test_production_runs_catalog_charts if {
	count(denials) == 0 with input as plan([app({"catalog": "web-service", "version": null})], production)
}

test_production_denies_charts_from_elsewhere if {
	denials == {["deny_production_chart", {
		"msg": "idp_app.this: chart api of https://charts.example.com/stable is not approved for environment \"production\": use a catalog chart (chart = { catalog = \"web-service\" }), or ask the platform team to add the chart to the catalog",
		"path": ["chart"],
	}]} with input as plan([app(repository_chart)], production)
	some local in main.deny_production_chart with input as plan([app({"path": "./charts/api"})], production)
	contains(local.msg, "the local chart ./charts/api is not approved")
	count(main.deny_production_chart) == 1 with input as plan([app({"oci": "oci://ghcr.io/acme/api", "version": "1.0.0"})], production)
}

test_production_is_known_by_the_cluster_label_too if {
	labelled := {"cluster": {"labels": {"platform.idp.dev/environment": "production"}}}
	count(main.deny_production_chart) == 1 with input as plan([app(repository_chart)], labelled)
}

test_other_environments_run_any_chart if {
	count(denials) == 0 with input as plan([app(repository_chart)], {"cluster": {"environment": "staging"}})
	count(denials) == 0 with input as plan([app({"path": "./charts/api"})], {})
}

test_approved_sources_are_a_setting if {
	sources := {"production_chart_sources": ["https://charts.example.com/stable/", "oci://registry.example.com/charts"]}
	count(denials) == 0 with input as plan([app(repository_chart)], production) with data.idp_policy as sources
	count(denials) == 0 with input as plan([app({"oci": "oci://registry.example.com/charts/api"})], production) with data.idp_policy as sources
	count(main.deny_production_chart) == 1 with input as plan([app({"oci": "oci://registry.example.com/charts-evil/api"})], production) with data.idp_policy as sources
	count(main.deny_production_chart) == 1 with input as plan([app({"repository": "oci://registry.example.com/charts", "name": "api"})], production) with data.idp_policy as sources
	some finding in main.deny_production_chart with input as plan([app({"path": "./api"})], production) with data.idp_policy as sources
	endswith(finding.msg, "or one from https://charts.example.com/stable/, oci://registry.example.com/charts")
}

test_charts_known_only_at_apply_warn_instead if {
	rc := with_unknown(app({"repository": null, "name": "api", "version": "1.2.3"}), {"chart": {"repository": true}})
	count(denials) == 0 with input as plan([rc], production)
	{finding.path | some [_, finding] in warnings} == {["chart", "repository"]} with input as plan([rc], production)
}

test_removing_an_app_is_never_denied if {
	count(denials) == 0 with input as plan([with_actions(app(repository_chart), ["delete"])], production)
}
