# The kubeconfig engineers log in to the payments cluster with, through kubelogin and Keycloak.
ephemeral "idp_kubeconfig" "payments" {
  cluster = idp_cluster.payments_dev.id # known once the cluster exists, so this opens at apply when it is created in the same run
}

# It holds no credential, so it may be written where the team picks it up. Ephemeral values can be
# used in provisioners (and write-only arguments), never in state.
resource "terraform_data" "payments_kubeconfig" {
  triggers_replace = [idp_cluster.payments_dev.id]

  provisioner "local-exec" {
    command     = "printf '%s' \"$KUBECONFIG_CONTENT\" > payments-dev.kubeconfig"
    environment = { KUBECONFIG_CONTENT = ephemeral.idp_kubeconfig.payments.kubeconfig }
  }
}
