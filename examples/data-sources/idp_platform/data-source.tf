data "idp_platform" "this" {}

output "kubernetes_version" {
  value = data.idp_platform.this.management_cluster.kubernetes_version
}
