# Register an existing cluster (the management cluster itself, or a legacy one): its admin kubeconfig
# goes to Vault, never to state.
resource "idp_cluster" "legacy" {
  name                  = "legacy-prod"
  cloud                 = "existing"
  kubeconfig_wo         = file("${path.module}/legacy-prod.kubeconfig")
  kubeconfig_wo_version = 1 # bump to store a rotated kubeconfig

  timeouts = {
    create = "5m"
  }
}
