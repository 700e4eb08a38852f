# Hand a platform cluster's credentials to the kubernetes provider without writing them to state.
ephemeral "idp_cluster_credentials" "payments" {
  cluster = idp_cluster.payments_dev.id # known once the cluster exists, so this opens at apply when it is created in the same run
}

provider "kubernetes" {
  host                   = ephemeral.idp_cluster_credentials.payments.endpoint
  cluster_ca_certificate = ephemeral.idp_cluster_credentials.payments.cluster_ca_certificate
  client_certificate     = ephemeral.idp_cluster_credentials.payments.client_certificate
  client_key             = ephemeral.idp_cluster_credentials.payments.client_key
  token                  = ephemeral.idp_cluster_credentials.payments.token
}
