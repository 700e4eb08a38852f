# Where Vault keeps a cluster's admin kubeconfig, for `vault kv get` or a Vault policy.
output "payments_kubeconfig" {
  value = provider::idp::kubeconfig_path("payments-dev") # secret/idp/clusters/payments-dev/kubeconfig
}

output "payments_kubeconfig_elsewhere" {
  value = provider::idp::kubeconfig_path("payments-dev", "kv", "platform")
}
