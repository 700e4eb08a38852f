# May alice, with her groups in Keycloak, deploy to the payments namespace of the payments cluster, as
# the grant to the payments developers means her to?
data "idp_access_check" "alice_deploys" {
  cluster   = idp_cluster.payments_dev.name
  user      = "alice" # the Keycloak username; the cluster sees oidc:alice
  verb      = "create"
  resource  = "deployments.apps"
  namespace = "payments"

  depends_on = [idp_access.payments_devs] # ask once the grant is in place
}

check "alice_can_deploy" {
  assert {
    condition     = data.idp_access_check.alice_deploys.allowed
    error_message = "alice (groups ${jsonencode(data.idp_access_check.alice_deploys.groups)}) cannot create deployments in payments."
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
  namespace   = "payments"
}

# The reason names what allows a request; nothing names what does not.
output "on_call_reads_logs" {
  value = data.idp_access_check.on_call_logs.allowed ? "yes: ${data.idp_access_check.on_call_logs.reason}" : "no"
}
