output "id" {
  description = "ID of the release, cluster/namespace/name."
  value       = idp_app.this.id
}

output "revision" {
  description = "Revision of the release."
  value       = idp_app.this.revision
}

output "resources" {
  description = "Objects of the release, as kind/namespace/name."
  value       = idp_app.this.resources
}
