# May alice, with her groups in Keycloak, deploy to the shop namespace of the payments cluster?
data "idp_access_check" "alice_deploys" {
  cluster   = idp_cluster.payments_dev.name
  user      = "alice" # the Keycloak username; the cluster sees oidc:alice
  verb      = "create"
  resource  = "deployments.apps"
  namespace = "shop"
}

check "alice_can_deploy" {
  assert {
    condition     = data.idp_access_check.alice_deploys.allowed
    error_message = "alice (groups ${jsonencode(data.idp_access_check.alice_deploys.groups)}) cannot create deployments in shop."
  }
}

# What would a member of on-call alone be allowed? Explicit groups need no Keycloak lookup.
data "idp_access_check" "on_call_logs" {
  cluster     = idp_cluster.payments_dev.name
  user        = "new-hire"
  groups      = ["on-call"]
  verb        = "get"
  resource    = "pods"
  subresource = "log"
  namespace   = "shop"
}

output "on_call_reads_logs" {
  value = "${data.idp_access_check.on_call_logs.allowed} (${data.idp_access_check.on_call_logs.reason})"
}
