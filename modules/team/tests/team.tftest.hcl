# Runs against a real platform: the provider's acceptance suite runs it on the sandbox with
# TF_VAR_kubeconfig_path set to the workload cluster's kubeconfig; the sandbox's Keycloak has the
# users alice and bob.
variables {
  name     = "module-team"
  clusters = ["module-team"]
  members  = ["alice"]
}

run "register_cluster" {
  variables {
    cluster = "module-team"
  }
  module {
    source = "../testing/register-cluster"
  }
}

run "rejects_bad_name" {
  command = plan
  variables {
    name = "Payments_Team"
  }
  expect_failures = [var.name]
}

run "rejects_no_cluster" {
  command = plan
  variables {
    clusters = []
  }
  expect_failures = [var.clusters]
}

run "rejects_bad_quota" {
  command = plan
  variables {
    quota = { memory = { limits = "16 GB" } }
  }
  expect_failures = [var.quota]
}

run "rejects_bad_expiry" {
  command = plan
  variables {
    expires_at = "next friday"
  }
  expect_failures = [var.expires_at]
}

run "install" {
  assert {
    condition     = output.group == "team-module-team" && output.namespace == "module-team"
    error_message = "the team's group is not team-<name> or its namespace is not named after it"
  }
  assert {
    condition     = idp_app.namespace["module-team"].status == "deployed" && idp_app.namespace["module-team"].revision == 1
    error_message = "the namespace's release is not deployed at revision 1"
  }
  assert {
    condition     = toset(idp_app.namespace["module-team"].resources) == toset(["LimitRange/module-team/team-namespace", "ResourceQuota/module-team/team-namespace"])
    error_message = "the namespace's release is not a ResourceQuota and a LimitRange"
  }
  assert {
    condition     = length(output.access_ids) == 1 && output.access_ids["module-team"] == "module-team/team-module-team/module-team"
    error_message = "the access's id is not cluster/group/namespace"
  }
  assert {
    condition     = [for binding in output.bindings["module-team"] : "${binding.namespace}/${binding.name}"] == ["module-team/idp:team-module-team:edit"]
    error_message = "the team's group is not bound to edit in its namespace, and only there"
  }
  assert {
    condition     = toset(output.subjects["module-team"]) == toset(["oidc:team-module-team"])
    error_message = "the binding's subject is not the team's group as the cluster sees it"
  }
  assert {
    condition     = output.status["module-team"] == "active"
    error_message = "the team's access is not active"
  }
  assert {
    condition     = output.vault_policy == "idp-team-module-team" && idp_team.this.clusters == tolist(["module-team-*"]) && idp_team.this.keycloak_group == "team-module-team"
    error_message = "the team's Vault policy is not idp-team-<name>, reaching its own clusters, with its group"
  }
  assert {
    condition     = can(regex("path \"secret/data/idp/credentials/module-team/\\*\"", idp_team.this.vault_policy_document)) && output.approle_role_id != ""
    error_message = "the team's Vault policy does not reach its credentials, or it has no AppRole role"
  }
}

run "add_member_and_shrink_quota" {
  variables {
    members = ["alice", "bob"]
    quota = {
      cpu  = { requests = "2" }
      pods = 10
    }
  }
  assert {
    condition     = idp_app.namespace["module-team"].revision == 2
    error_message = "the quota's change did not upgrade the namespace's release"
  }
  assert {
    condition     = toset(idp_access.this["module-team"].members) == toset(["alice", "bob"])
    error_message = "the access does not manage alice and bob"
  }
  assert {
    condition     = output.access_ids["module-team"] == "module-team/team-module-team/module-team"
    error_message = "the access's id changed with its members"
  }
  assert {
    condition     = [for binding in output.bindings["module-team"] : "${binding.namespace}/${binding.name}"] == ["module-team/idp:team-module-team:edit"]
    error_message = "the binding changed with the members"
  }
}
