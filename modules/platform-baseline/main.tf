# The platform's standard-issue add-ons on one cluster, from the curated add-on catalog: by default
# cert-manager, ingress-nginx, metrics-server, kube-prometheus-stack and Fluent Bit at the catalog's
# versions, with the catalog's defaults for the cluster's cloud. Crossplane installs them in dependency
# order and keeps them in place between applies.
locals {
  addons = merge(var.addons, var.extra_addons)

  catalog_keys = keys(data.idp_addon_catalog.this.addons)
  unknown_keys = sort(setsubtract(keys(local.addons), local.catalog_keys))
  missing_dependencies = flatten([
    for key in keys(local.addons) : [
      for dependency in try(data.idp_addon_catalog.this.addons[key].depends_on, []) :
      "${key} needs ${dependency}" if !contains(keys(local.addons), dependency)
    ]
  ])
}

# Only the catalog's keys and dependencies are read here, and they are the same on every cloud; the
# stack itself resolves versions and defaults for the cloud the cluster is registered with.
data "idp_addon_catalog" "this" {
  cloud = "existing"
}

resource "idp_addon_stack" "this" {
  cluster  = var.cluster
  name     = var.name
  addons   = local.addons
  timeouts = var.timeouts

  lifecycle {
    precondition {
      condition     = length(local.unknown_keys) == 0
      error_message = "The add-on catalog has no ${join(", ", local.unknown_keys)}; it offers ${join(", ", sort(local.catalog_keys))}."
    }
    precondition {
      condition     = length(local.missing_dependencies) == 0
      error_message = "Add-ons are missing what they depend on: ${join("; ", local.missing_dependencies)}. Add those to addons or extra_addons."
    }
  }
}
