data "idp_addon_catalog" "aws" {
  cloud              = "aws"
  kubernetes_version = "1.34"
}

# The versions of each add-on that support Kubernetes 1.34, newest first.
output "addon_versions" {
  value = { for key, addon in data.idp_addon_catalog.aws.addons : key => addon.versions }
}

output "ingress_depends_on" {
  value = data.idp_addon_catalog.aws.addons["ingress"].depends_on
}
