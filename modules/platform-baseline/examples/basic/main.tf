# The standard-issue baseline on a platform cluster, plus its default StorageClass (on a cloud
# cluster the catalog knows the cloud's CSI driver) and two cert-manager replicas.
module "baseline" {
  source = "../.."

  cluster = "payments-dev"
  extra_addons = {
    storage      = {}
    cert_manager = { values = yamlencode({ replicaCount = 2 }) }
  }
}

output "ready" {
  value = module.baseline.ready
}

output "status" {
  value = module.baseline.status
}
