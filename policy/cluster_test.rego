package main_test

import data.lib.idp_test.create
import data.lib.idp_test.plan
import data.lib.idp_test.with_actions
import data.lib.idp_test.with_unknown
import data.main

good_tags := {"team": "payments", "cost-center": "cc-1042"}

cloud_cluster(cloud, pools, tags) := create("idp_cluster", {
	"name": "payments",
	"cloud": cloud,
	"region": "eu-west-1",
	"kubernetes_version": "1.33",
	"node_pools": pools,
	"tags": tags,
})

pool(type, max_size) := {"instance_type": type, "min_size": 1, "max_size": max_size, "labels": null}

test_a_cluster_within_the_guardrails_passes if {
	every cloud, type in {"aws": "m6i.large", "azure": "Standard_D4s_v5", "gcp": "e2-standard-4"} {
		rc := cloud_cluster(cloud, {"default": pool(type, 5), "batch": pool(type, 10)}, good_tags)
		count(denials) == 0 with input as plan([rc], {"team": "payments"})
		count(warnings) == 0 with input as plan([rc], {"team": "payments"})
	}
}

test_machine_types_outside_the_cloud_list_are_denied if {
	rc := cloud_cluster("aws", {"default": pool("m6i.large", 3), "gpu": pool("p4d.24xlarge", 2)}, good_tags)
	some finding in main.deny_instance_type with input as plan([rc], {})
	finding.path == ["node_pools", "gpu", "instance_type"]
	startswith(finding.msg, "idp_cluster.this: node pool \"gpu\" uses p4d.24xlarge, which the platform does not offer on aws: use one of m6i.large, ")
	count(main.deny_instance_type) == 1 with input as plan([rc], {})
}

test_machine_types_are_a_setting if {
	rc := cloud_cluster("gcp", {"default": pool("a2-highgpu-1g", 3)}, good_tags)
	count(main.deny_instance_type) == 1 with input as plan([rc], {})
	count(main.deny_instance_type) == 0 with input as plan([rc], {}) with data.idp_policy as {"instance_types": {"gcp": ["a2-highgpu-1g"]}}
}

test_pools_grow_to_the_limit_of_their_environment if {
	rc := cloud_cluster("aws", {"default": pool("m6i.large", 11)}, good_tags)
	denials == {["deny_pool_size", {
		"msg": "idp_cluster.this: node pool \"default\" may grow to 11 nodes; clusters of no known environment allow at most 10 per pool: lower max_size, or spread the workload over more pools or clusters",
		"path": ["node_pools", "default", "max_size"],
	}]} with input as plan([rc], {})
	count(denials) == 0 with input as plan([rc], {"cluster": {"environment": "production"}})
	count(denials) == 0 with input as plan([rc], {"cluster": {"environment": "staging"}})
	count(main.deny_pool_size) == 1 with input as plan([rc], {"cluster": {"environment": "qa"}})
}

test_the_environment_tag_of_a_cluster_sets_its_limits if {
	rc := cloud_cluster("aws", {"default": pool("m6i.large", 21)}, object.union(good_tags, {"environment": "staging"}))
	some finding in main.deny_pool_size with input as plan([rc], {})
	contains(finding.msg, "environment \"staging\" allow at most 20 per pool")
	count(main.deny_pool_size) == 0 with input as plan([rc], {"cluster": {"environment": "production"}})
}

test_all_pools_together_grow_to_the_limit_of_their_environment if {
	pools := {name: pool("m6i.large", 10) | some name in ["a", "b", "c"]}
	count(denials) == 0 with input as plan([cloud_cluster("aws", pools, good_tags)], {})
	more := object.union(pools, {"d": pool("m6i.large", 1)})
	denials == {["deny_cluster_size", {
		"msg": "idp_cluster.this: the node pools may grow to 31 nodes together; clusters of no known environment allow at most 30 per cluster: lower their max_size, or split the workload over more clusters",
		"path": ["node_pools"],
	}]} with input as plan([cloud_cluster("aws", more, good_tags)], {})
}

test_sizes_known_only_at_apply_warn_instead if {
	rc := with_unknown(
		cloud_cluster("aws", {"default": {"instance_type": "m6i.large", "min_size": 1}}, good_tags),
		{"node_pools": {"default": {"max_size": true}}},
	)
	count(denials) == 0 with input as plan([rc], {})
	{finding.path | some [_, finding] in warnings} == {["node_pools", "default", "max_size"]} with input as plan([rc], {})
}

test_pools_known_only_at_apply_warn_once if {
	rc := with_unknown(cloud_cluster("azure", null, good_tags), {"node_pools": true})
	count(denials) == 0 with input as plan([rc], {})
	{finding.path | some [_, finding] in warnings} == {["node_pools"]} with input as plan([rc], {})
}

test_missing_required_tags_warn if {
	rc := cloud_cluster("aws", {"default": pool("m6i.large", 3)}, {"team": "payments"})
	warnings == {["warn_required_tags", {
		"msg": "idp_cluster.this: the cluster lacks the tag(s) cost-center, which attribute its cloud costs and ownership: add them, e.g. tags = { \"cost-center\" = \"...\" }",
		"path": ["tags"],
	}]} with input as plan([rc], {})
	count(denials) == 0 with input as plan([rc], {})
}

test_missing_required_tags_deny_when_enforced if {
	rc := cloud_cluster("aws", {"default": pool("m6i.large", 3)}, null)
	some finding in main.deny_required_tags with input as plan([rc], {}) with data.idp_policy as {"required_tags_enforcement": "deny"}
	contains(finding.msg, "lacks the tag(s) team, cost-center")
	count(main.warn_required_tags) == 0 with input as plan([rc], {}) with data.idp_policy as {"required_tags_enforcement": "deny"}
}

test_tags_known_only_at_apply_count_as_present if {
	rc := with_unknown(cloud_cluster("aws", {"default": pool("m6i.large", 3)}, {"team": "payments"}), {"tags": {"cost-center": true}})
	count(warnings) == 0 with input as plan([rc], {})
	all_unknown := with_unknown(cloud_cluster("aws", {"default": pool("m6i.large", 3)}, null), {"tags": true})
	{name | some [name, _] in warnings} == {"warn_unknown"} with input as plan([all_unknown], {})
}

test_registered_clusters_have_no_pools_or_tags_to_check if {
	rc := create("idp_cluster", {"name": "legacy", "cloud": "existing", "node_pools": null, "tags": null})
	count(denials) == 0 with input as plan([rc], {})
	count(warnings) == 0 with input as plan([rc], {})
}

test_destroying_a_cluster_is_never_denied if {
	rc := cloud_cluster("aws", {"gpu": pool("p4d.24xlarge", 100)}, null)
	count(denials) == 0 with input as plan([with_actions(rc, ["delete"])], {})
	count(main.deny_pool_size) == 1 with input as plan([with_actions(rc, ["update"])], {})
}
