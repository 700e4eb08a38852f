# A management cluster for the platform: registered as a platform cluster (its admin kubeconfig in
# Vault), with the platform's Crossplane Configuration package (the KubernetesCluster, KubernetesNodePool
# and AddonStack definitions and their Compositions), the composition functions they run and the
# AccessGrant definition installed by Crossplane's package manager (the catalog's platform-configuration
# chart). Crossplane core must already run there.
resource "idp_cluster" "this" {
  name                  = var.name
  cloud                 = "existing"
  kubeconfig_wo         = var.kubeconfig
  kubeconfig_wo_version = var.kubeconfig_version
}

resource "idp_app" "platform" {
  cluster   = idp_cluster.this.name
  namespace = var.namespace
  name      = "platform-configuration"
  chart     = { catalog = "platform-configuration", version = var.chart_version }
  # A failed upgrade goes back to the packages that worked: the package manager would otherwise hold
  # the definitions at a revision Terraform no longer describes.
  atomic = true
  values = yamlencode(merge(
    { mirror = var.package_mirror },
    var.configuration_package == null ? {} : { configuration = { name = "idp-platform", package = var.configuration_package } },
    var.functions == null ? {} : { functions = [for name, package in var.functions : { name = name, package = package }] },
  ))
}
