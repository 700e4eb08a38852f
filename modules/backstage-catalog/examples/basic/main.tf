# The platform's catalog-info.yaml, with the applications of the production clusters, written beside
# the configuration for the platform repository that Backstage reads.
module "backstage_catalog" {
  source = "../.."

  app_clusters  = ["payments-prod", "search-prod"]
  default_owner = "group:default/platform-team"
}

output "components" {
  value = module.backstage_catalog.entities["Component"]
}
