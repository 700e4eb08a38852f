# The platform's management cluster, with every package pulled from the company's mirror.
variable "management_kubeconfig" {
  type      = string
  sensitive = true
  ephemeral = true
}

module "management_plane" {
  source = "../.."

  name           = "management"
  kubeconfig     = var.management_kubeconfig
  package_mirror = "registry.example.com/xpkg-mirror"
}

output "objects" {
  value = module.management_plane.objects
}
