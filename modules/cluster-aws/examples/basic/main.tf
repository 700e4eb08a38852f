# The payments team's staging cluster on EKS: the staging size of the system pool, and a batch pool.
module "payments_staging" {
  source = "../.."

  name        = "payments-staging"
  team        = "payments"
  cost_center = "cc-1042"
  environment = "staging"
  region      = "eu-central-1"
  extra_node_pools = {
    batch = { instance_type = "c6i.2xlarge", min_size = 0, max_size = 4, labels = { workload = "batch" } }
  }
}

output "kubeconfig_path" {
  value = module.payments_staging.kubeconfig_path
}
