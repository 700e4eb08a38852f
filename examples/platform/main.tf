# A team's platform from the catalog's modules: the payments team gets a production cluster on each
# cloud, the standard-issue add-ons on each, its namespace and access there, a web service, and the
# whole platform described for Backstage. Apply it as the platform team: the provider's Vault login
# writes the team's policy, and the team's cloud credentials are in Vault at payments/<cloud>.
terraform {
  required_version = ">= 1.6.0"
  required_providers {
    idp = { source = "idp-platform/idp" }
  }
}

# The provider reads management_cluster, vault and keycloak from IDP_* variables (make demo sets them).
provider "idp" {}

locals {
  team        = "payments"
  cost_center = "cc-1042"
  clusters = {
    aws   = module.cluster_aws.name
    azure = module.cluster_azure.name
    gcp   = module.cluster_gcp.name
  }
}

module "cluster_aws" {
  source = "../../modules/cluster-aws"

  name        = "${local.team}-prod-aws"
  team        = local.team
  cost_center = local.cost_center
  environment = "production"
  region      = "eu-west-1"
}

module "cluster_azure" {
  source = "../../modules/cluster-azure"

  name        = "${local.team}-prod-azure"
  team        = local.team
  cost_center = local.cost_center
  environment = "production"
}

module "cluster_gcp" {
  source = "../../modules/cluster-gcp"

  name        = "${local.team}-prod-gcp"
  team        = local.team
  cost_center = local.cost_center
  environment = "production"
}

# cert-manager, ingress-nginx, metrics-server, monitoring and logging on every cluster, and the
# cloud's default StorageClass.
module "baseline" {
  source   = "../../modules/platform-baseline"
  for_each = local.clusters

  cluster      = each.value
  extra_addons = { storage = {} }
}

# The team's Vault policy (its clusters are payments-*), its Keycloak group with alice and bob, and
# its namespace with a quota on every cluster, where the group may edit.
module "team" {
  source = "../../modules/team"

  name     = local.team
  clusters = values(local.clusters)
  members  = ["alice", "bob"]

  depends_on = [module.baseline]
}

module "api" {
  source   = "../../modules/web-service"
  for_each = local.clusters

  cluster      = each.value
  namespace    = module.team.namespace
  name         = "api"
  image        = { repository = "ghcr.io/acme/payments-api", tag = "2.3.1" }
  replicas     = 3
  ingress_host = "api.${each.key}.payments.example.com"
}

# catalog-info.yaml beside this configuration: the team, its clusters and the api on each.
module "backstage" {
  source = "../../modules/backstage-catalog"

  app_clusters = values(local.clusters)

  depends_on = [module.api]
}

output "kubeconfig_paths" {
  value = {
    aws   = module.cluster_aws.kubeconfig_path
    azure = module.cluster_azure.kubeconfig_path
    gcp   = module.cluster_gcp.kubeconfig_path
  }
}

output "catalog_entities" {
  value = module.backstage.entities
}
