output "id" {
  description = "ID of the stack, cluster/stack."
  value       = idp_addon_stack.this.id
}

output "catalog_version" {
  description = "Version of the add-on catalog the stack was resolved from."
  value       = idp_addon_stack.this.catalog_version
}

output "status" {
  description = "Per add-on key: chart, repository, version, digest, namespace, status (Ready, Progressing, Failed or Pending), the gate that does not hold yet, its message, and the install order."
  value       = idp_addon_stack.this.status
}

output "ready" {
  description = "Whether every add-on of the stack is Ready, as of the last refresh."
  value       = alltrue([for addon in values(idp_addon_stack.this.status) : addon.status == "Ready"])
}
