# The platform as Backstage sees it: teams, clusters and the applications on the payments cluster.
data "idp_catalog" "platform" {
  app_clusters  = [idp_cluster.payments_dev.name]
  default_owner = "group:default/platform-team"
}

# Backstage reads catalog-info.yaml from a repository or a URL; the backstage-catalog module writes it.
output "catalog_info" {
  value = data.idp_catalog.platform.yaml
}

output "components" {
  value = [for entity in data.idp_catalog.platform.entities : entity.ref if entity.kind == "Component"]
}
