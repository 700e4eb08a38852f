# Helpers of the shipped policies. The input is a `tofu show -json` plan (or the provider's document
# of one change in the same shape): input.resource_changes, plus the caller's context in input.idp
# (the provider) or data.idp (conftest --data). See README.md.
package lib.idp

# context is the caller's context: team, identity, cluster {name, cloud, environment, labels}. The
# provider's input.idp wins over data.idp.
context := object.union(data_context, input_context)

# data.idp is named, not looked up in data as a whole, which would depend on every rule.
default data_context := {}

data_context := data.idp

default input_context := {}

input_context := input.idp

# changes are the managed resources the plan creates or updates (a replacement too). Deletes, reads
# and no-ops are never checked: the policies gate what a plan makes, and tearing down stays possible.
changes contains rc if {
	some rc in input.resource_changes
	object.get(rc, "mode", "managed") == "managed"
	some action in rc.change.actions
	action in {"create", "update"}
}

# after(rc, path) is the planned value at path; undefined when it is unset, null or unknown.
after(rc, path) := value if {
	value := object.get(rc.change, array.concat(["after"], path), null)
	value != null
}

# object_after(rc, path) is the planned object (or map) at path; empty when there is none.
object_after(rc, path) := value if {
	value := after(rc, path)
	is_object(value)
} else := {}

# unknown(rc, path) holds when the value at path, or one containing it, is only known at apply
# (after_unknown marks it true). Policies do not deny on what they cannot see; they warn instead.
unknown(rc, path) if {
	some n in numbers.range(1, count(path))
	unknown_at(rc, array.slice(path, 0, n))
}

# unknown_at(rc, path) holds when the value at path itself is marked unknown, not one containing it:
# a warning about an unknown value names the outermost one only.
unknown_at(rc, path) if object.get(rc.change, array.concat(["after_unknown"], path), false) == true

# environment(rc) is the environment of the cluster rc belongs to: idp.cluster.environment, else the
# cluster's environment label, else (for an idp_cluster) its "environment" tag; "" when none says.
environment(rc) := env if {
	env := object.get(context, ["cluster", "environment"], "")
	env != ""
} else := env if {
	env := object.get(context, ["cluster", "labels", settings.environment_label], "")
	env != ""
} else := env if {
	rc.type == "idp_cluster"
	env := after(rc, ["tags", "environment"])
} else := ""

production(rc) if environment(rc) in settings.production_environments

# limit(table, env) is the entry of env in a per-environment table of settings, else its default.
limit(table, env) := object.get(table, env, table["default"])

# environment_name(env) names env in messages.
environment_name(env) := sprintf("environment %q", [env]) if {
	env != ""
} else := "clusters of no known environment"

# result(rc, path, text) is what a rule reports: conftest shows msg (prefixed with the resource's
# address, as a plan has many), the provider puts it on the attribute at path.
result(rc, path, text) := {"msg": sprintf("%s: %s", [rc.address, text]), "path": path} if {
	is_string(rc.address)
	rc.address != ""
} else := {"msg": text, "path": path}
