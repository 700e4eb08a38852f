# Written by terraform-provider-idp (idp_team) for team payments: its cloud credentials and its clusters' kubeconfigs.
path "secret/data/idp/credentials/payments/*" {
  capabilities = ["read"]
}
path "secret/metadata/idp/credentials/payments/*" {
  capabilities = ["read", "list"]
}
path "secret/metadata/idp/clusters/" {
  capabilities = ["list"]
}
path "secret/data/idp/clusters/payments-*" {
  capabilities = ["create", "read", "update"]
}
path "secret/metadata/idp/clusters/payments-*" {
  capabilities = ["read", "delete"]
}
path "secret/data/idp/clusters/shared-dev/kubeconfig" {
  capabilities = ["create", "read", "update"]
}
path "secret/metadata/idp/clusters/shared-dev/kubeconfig" {
  capabilities = ["read", "delete"]
}
