output "name" {
  description = "Name of the management cluster on the platform, for idp_app, idp_access and idp_addon_stack."
  value       = idp_cluster.this.name
}

output "kubeconfig_path" {
  description = "Where the cluster's admin kubeconfig is in Vault (`vault kv get <path>`); it is never in state."
  value       = idp_cluster.this.kubeconfig_path
}

output "objects" {
  description = "What the release installs: the Configuration, the Functions, the AccessGrant definition and the mirror's ImageConfigs."
  value       = idp_app.platform.resources
}
