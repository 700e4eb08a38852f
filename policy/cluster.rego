# Clusters (idp_cluster) the platform creates in a cloud: machine types, sizes and tags. Registered
# (cloud = "existing") clusters have none of these.
package main

import data.lib.idp

cloud_clusters contains rc if {
	some rc in idp.changes
	rc.type == "idp_cluster"
	idp.after(rc, ["cloud"]) in {"aws", "azure", "gcp"}
}

# Node pools use the machine types the platform offers on their cloud.
deny_instance_type contains idp.result(rc, ["node_pools", name, "instance_type"], msg) if {
	some rc in cloud_clusters
	cloud := idp.after(rc, ["cloud"])
	some name, pool in idp.object_after(rc, ["node_pools"])
	is_string(pool.instance_type)
	allowed := object.get(idp.settings.instance_types, cloud, [])
	not pool.instance_type in allowed
	msg := sprintf(
		"node pool %q uses %s, which the platform does not offer on %s: use one of %s, or ask the platform team to add it",
		[name, pool.instance_type, cloud, concat(", ", allowed)],
	)
}

# A node pool grows to at most the environment's limit.
deny_pool_size contains idp.result(rc, ["node_pools", name, "max_size"], msg) if {
	some rc in cloud_clusters
	env := idp.environment(rc)
	limit := idp.limit(idp.settings.max_pool_nodes, env)
	some name, pool in idp.object_after(rc, ["node_pools"])
	is_number(pool.max_size)
	pool.max_size > limit
	msg := sprintf(
		"node pool %q may grow to %d nodes; %s allow at most %d per pool: lower max_size, or spread the workload over more pools or clusters",
		[name, pool.max_size, idp.environment_name(env), limit],
	)
}

# All node pools of a cluster together grow to at most the environment's limit. Sizes not known
# until apply are left out: what is known already counts.
deny_cluster_size contains idp.result(rc, ["node_pools"], msg) if {
	some rc in cloud_clusters
	env := idp.environment(rc)
	limit := idp.limit(idp.settings.max_cluster_nodes, env)
	total := sum([pool.max_size |
		some pool in idp.object_after(rc, ["node_pools"])
		is_number(pool.max_size)
	])
	total > limit
	msg := sprintf(
		"the node pools may grow to %d nodes together; %s allow at most %d per cluster: lower their max_size, or split the workload over more clusters",
		[total, idp.environment_name(env), limit],
	)
}

# Required tags attribute a cluster's cloud costs. They only warn unless the settings say "deny": a
# missing tag costs nothing at apply, and examples and emergency fixes should not stop on it.
deny_required_tags contains finding if {
	idp.settings.required_tags_enforcement == "deny"
	some finding in tag_findings
}

warn_required_tags contains finding if {
	idp.settings.required_tags_enforcement != "deny"
	some finding in tag_findings
}

tag_findings contains idp.result(rc, ["tags"], msg) if {
	some rc in cloud_clusters
	not idp.unknown(rc, ["tags"])
	tags := idp.object_after(rc, ["tags"])
	missing := [tag | some tag in idp.settings.required_tags; not has_tag(rc, tags, tag)]
	count(missing) > 0
	msg := sprintf(
		"the cluster lacks the tag(s) %s, which attribute its cloud costs and ownership: add them, e.g. tags = { %s }",
		[concat(", ", missing), concat(", ", [sprintf("%q = \"...\"", [tag]) | some tag in missing])],
	)
}

has_tag(_, tags, tag) if {
	is_string(tags[tag])
	tags[tag] != ""
}

has_tag(rc, _, tag) if idp.unknown(rc, ["tags", tag])

checked contains [rc, ["cloud"]] if {
	some rc in idp.changes
	rc.type == "idp_cluster"
}

checked contains [rc, path] if {
	some rc in cloud_clusters
	some path in [["node_pools"], ["tags"]]
}

checked contains [rc, ["node_pools", name, attribute]] if {
	some rc in cloud_clusters
	some name, _ in idp.object_after(rc, ["node_pools"])
	some attribute in ["instance_type", "max_size"]
}
