output "group" {
  description = "Keycloak group of the team."
  value       = local.group
}

output "namespace" {
  description = "Namespace of the team on every cluster."
  value       = local.namespace
}

output "access_ids" {
  description = "ID of the team's access on each cluster, cluster/group/namespace, by cluster."
  value       = { for cluster, access in idp_access.this : cluster => access.id }
}

output "bindings" {
  description = "RoleBindings of the team's group, as objects with namespace and name, by cluster."
  value       = { for cluster, access in idp_access.this : cluster => access.bindings }
}

output "subjects" {
  description = "Subjects the bindings bind (the group as the clusters see it in a token, `oidc:<group>`), by cluster."
  value       = { for cluster, access in idp_access.this : cluster => access.subjects }
}

output "status" {
  description = "Status of the team's access, by cluster."
  value       = { for cluster, access in idp_access.this : cluster => access.status }
}

output "release_ids" {
  description = "ID of the namespace's release, cluster/namespace/team-namespace, by cluster."
  value       = { for cluster, release in idp_app.namespace : cluster => release.id }
}

output "vault_policy" {
  description = "The team's Vault policy and AppRole role, `idp-team-<name>`."
  value       = idp_team.this.vault_policy
}

output "approle_role_id" {
  description = "Role ID of the team's AppRole; its CI logs in with it and a secret ID issued outside Terraform (`vault write -f auth/<mount>/role/idp-team-<name>/secret-id`)."
  value       = idp_team.this.approle_role_id
}

output "credentials_path" {
  description = "Where the team's cloud credentials go (`vault kv put <path><cloud> ...`); the team's clusters name them `<name>/<cloud>`."
  value       = idp_team.this.credentials_path
}
