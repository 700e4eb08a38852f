output "file" {
  description = "Path of the `catalog-info.yaml` written."
  value       = terraform_data.catalog_info.output.file
}

output "sha256" {
  description = "SHA-256 of the file's content."
  value       = terraform_data.catalog_info.output.sha256
}

output "yaml" {
  description = "The file's content: every entity, one YAML document each."
  value       = data.idp_catalog.this.yaml
}

output "entities" {
  description = "Reference (`kind:namespace/name`) of every entity written, by kind."
  value = {
    for kind in distinct([for entity in data.idp_catalog.this.entities : entity.kind]) :
    kind => [for entity in data.idp_catalog.this.entities : entity.ref if entity.kind == kind]
  }
}
