# A cluster whose kubeconfig is already in Vault is imported by name.
terraform import idp_cluster.legacy legacy-prod
