# Unit suite: runs without a platform (mock_provider), so it checks only what the module itself decides.
mock_provider "idp" {}

variables {
  name     = "payments"
  clusters = ["payments-dev", "payments-prod"]
}

run "defaults" {
  command = plan
  assert {
    condition     = output.group == "team-payments" && output.namespace == "payments"
    error_message = "the team's group is not team-<name> or its namespace is not named after it"
  }
  assert {
    condition     = idp_team.this.name == "payments" && idp_team.this.keycloak_group == "team-payments" && idp_team.this.token_ttl == "1h"
    error_message = "the team is not planned with its name, its group team-<name> and a 1h token"
  }
  assert {
    condition     = toset(keys(idp_app.namespace)) == toset(["payments-dev", "payments-prod"]) && toset(keys(idp_access.this)) == toset(["payments-dev", "payments-prod"])
    error_message = "there is not one namespace release and one access per cluster"
  }
  assert {
    condition     = alltrue([for cluster, release in idp_app.namespace : release.cluster == cluster && release.namespace == "payments" && release.name == "team-namespace" && release.chart.catalog == "team-namespace" && release.chart.version == "1.0.0"])
    error_message = "a namespace release is not the team-namespace chart 1.0.0, named team-namespace, in the team's namespace on its cluster"
  }
  assert {
    condition     = yamldecode(idp_app.namespace["payments-dev"].values) == { team = "payments", quota = { requests = { cpu = "4", memory = "8Gi" }, limits = { cpu = "8", memory = "16Gi" }, pods = 20 } }
    error_message = "the namespace's quota is not the default 4/8 CPU, 8Gi/16Gi memory and 20 pods for the team"
  }
  assert {
    condition     = alltrue([for cluster, access in idp_access.this : access.cluster == cluster && access.group == "team-payments" && access.role == "edit" && access.manage_group == true && access.namespaces == toset(["payments"])])
    error_message = "an access does not bind the team's group to edit in its namespace on its cluster, managing the group"
  }
  assert {
    condition     = idp_access.this["payments-dev"].members == null && idp_access.this["payments-dev"].expires_at == null
    error_message = "an access without members or an end manages members or expires"
  }
}

run "named_group_namespace_members_and_partial_quota" {
  command = plan
  variables {
    group          = "payments-engineers"
    namespace      = "payments-apps"
    members        = ["alice", "bob"]
    role           = "admin"
    owned_clusters = ["payments-*", "shared-ci"]
    token_ttl      = "8h"
    quota          = { cpu = { requests = "2" }, pods = 10 }
    expires_at     = "2026-12-31T18:00:00Z"
    chart_version  = "1.1.0"
  }
  assert {
    condition     = output.group == "payments-engineers" && output.namespace == "payments-apps" && idp_team.this.keycloak_group == "payments-engineers"
    error_message = "the named group or namespace is not used"
  }
  assert {
    condition     = idp_team.this.clusters == tolist(["payments-*", "shared-ci"]) && idp_team.this.token_ttl == "8h"
    error_message = "the team's owned clusters or token TTL are not passed to idp_team"
  }
  assert {
    condition     = yamldecode(idp_app.namespace["payments-prod"].values).quota == { requests = { cpu = "2", memory = "8Gi" }, limits = { cpu = "8", memory = "16Gi" }, pods = 10 }
    error_message = "a partial quota does not keep the defaults of what it leaves out"
  }
  assert {
    condition     = idp_app.namespace["payments-prod"].namespace == "payments-apps" && idp_app.namespace["payments-prod"].chart.version == "1.1.0"
    error_message = "the namespace release is not in the named namespace at chart_version"
  }
  assert {
    condition     = idp_access.this["payments-prod"].members == toset(["alice", "bob"]) && idp_access.this["payments-prod"].role == "admin" && idp_access.this["payments-prod"].namespaces == toset(["payments-apps"])
    error_message = "the access does not bind alice and bob to admin in the named namespace"
  }
  assert {
    condition     = idp_access.this["payments-prod"].group == "payments-engineers" && idp_access.this["payments-prod"].expires_at == "2026-12-31T18:00:00Z"
    error_message = "the access does not bind the named group, or does not end at expires_at"
  }
}

run "rejects_a_name_that_is_not_a_dns_label" {
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

run "rejects_a_cluster_named_twice" {
  command = plan
  variables {
    clusters = ["payments-dev", "payments-dev"]
  }
  expect_failures = [var.clusters]
}

run "rejects_an_empty_role" {
  command = plan
  variables {
    role = ""
  }
  expect_failures = [var.role]
}

run "rejects_a_namespace_that_is_not_a_dns_label" {
  command = plan
  variables {
    namespace = "Payments_NS"
  }
  expect_failures = [var.namespace]
}

run "rejects_an_empty_group" {
  command = plan
  variables {
    group = ""
  }
  expect_failures = [var.group]
}

run "rejects_a_quota_that_is_not_a_quantity" {
  command = plan
  variables {
    quota = { memory = { limits = "16 GB" } }
  }
  expect_failures = [var.quota]
}

run "rejects_fractional_pods" {
  command = plan
  variables {
    quota = { pods = 2.5 }
  }
  expect_failures = [var.quota]
}

run "rejects_an_expiry_that_is_not_rfc3339" {
  command = plan
  variables {
    expires_at = "next friday"
  }
  expect_failures = [var.expires_at]
}
