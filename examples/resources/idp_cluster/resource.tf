# Create a cluster on AWS (EKS) through the platform's Crossplane compositions. The credentials are read
# from Vault at <kv_mount>/<prefix>/credentials/aws/team-payments; the admin kubeconfig goes to Vault.
resource "idp_cluster" "payments_dev" {
  name               = "payments-dev"
  cloud              = "aws"
  region             = "eu-west-1"
  kubernetes_version = "1.33"
  credentials        = "aws/team-payments"
  node_pools = {
    default = { instance_type = "m6i.large", min_size = 2, max_size = 5 }
    batch   = { instance_type = "c6i.2xlarge", min_size = 0, max_size = 10, labels = { workload = "batch" } }
  }
  tags = { team = "payments" }

  timeouts = {
    create = "45m"
    delete = "30m"
  }
}

# Register an existing cluster (the management cluster itself, or a legacy one): its admin kubeconfig
# goes to Vault, never to state.
resource "idp_cluster" "legacy" {
  name                  = "legacy-prod"
  cloud                 = "existing"
  kubeconfig_wo         = file("${path.module}/legacy-prod.kubeconfig")
  kubeconfig_wo_version = 1 # bump to store a rotated kubeconfig

  timeouts = {
    create = "5m"
  }
}
