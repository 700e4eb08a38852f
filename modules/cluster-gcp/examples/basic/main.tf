# The payments team's staging cluster on GKE: the staging size of the system pool, and a batch pool.
module "payments_staging" {
  source = "../.."

  name        = "payments-staging"
  team        = "payments"
  cost_center = "cc-1042"
  environment = "staging"
  region      = "europe-west3"
  extra_node_pools = {
    batch = { instance_type = "c2-standard-8", min_size = 0, max_size = 4, labels = { workload = "batch" } }
  }
}

output "kubeconfig_path" {
  value = module.payments_staging.kubeconfig_path
}
