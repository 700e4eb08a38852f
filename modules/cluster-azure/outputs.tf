output "name" {
  description = "Name of the cluster on the platform, for idp_app, idp_access and idp_addon_stack."
  value       = idp_cluster.this.name
}

output "endpoint" {
  description = "API server of the cluster."
  value       = idp_cluster.this.endpoint
}

output "kubeconfig_path" {
  description = "Where the cluster's admin kubeconfig is in Vault (`vault kv get <path>`); it is never in state."
  value       = idp_cluster.this.kubeconfig_path
}

output "status" {
  description = "Status of the cluster as the cloud reports it."
  value       = idp_cluster.this.status
}

output "kubernetes_version" {
  description = "Kubernetes version the cloud runs."
  value       = idp_cluster.this.kubernetes_version_actual
}

output "node_pools" {
  description = "The cluster's node pools, by name."
  value       = idp_cluster.this.node_pools
}

output "tags" {
  description = "The cluster's tags, with team, cost-center and environment."
  value       = idp_cluster.this.tags
}
