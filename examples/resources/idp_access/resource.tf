# The payments developers may edit in the payments namespace of the dev cluster until the end of the
# year; the group is created in Keycloak if it does not exist.
resource "idp_access" "payments_devs" {
  cluster    = idp_cluster.payments_dev.id
  group      = "payments-developers"
  members    = ["alice", "bob"]
  role       = "edit"
  namespaces = ["payments"]
  expires_at = "2026-12-31T18:00:00Z"

  depends_on = [idp_app.api] # the release creates the payments namespace; the grant needs it
}

# Read-only access to the whole cluster for an existing group managed elsewhere.
resource "idp_access" "auditors" {
  cluster      = idp_cluster.payments_dev.id
  group        = "auditors"
  manage_group = false
  role         = "view"
}
