# Written by terraform-provider-idp (idp_team) for team data: its cloud credentials and its clusters' kubeconfigs.
path "secret/data/idp/credentials/data/*" {
  capabilities = ["read"]
}
path "secret/metadata/idp/credentials/data/*" {
  capabilities = ["read", "list"]
}
path "secret/metadata/idp/clusters/" {
  capabilities = ["list"]
}
