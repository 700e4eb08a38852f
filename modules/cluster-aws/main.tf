# An EKS cluster the platform's way: one `system` node pool sized for its environment, the tags the
# policy library requires, and the team's own credentials from Vault.
locals {
  size = var.node_pool_sizes[var.environment]
}

resource "idp_cluster" "this" {
  name               = var.name
  cloud              = "aws"
  region             = var.region
  kubernetes_version = var.kubernetes_version
  credentials        = coalesce(var.credentials, "${var.team}/aws")
  node_pools = merge(var.extra_node_pools, {
    system = { instance_type = local.size.instance_type, min_size = local.size.min_size, max_size = local.size.max_size }
  })
  tags = merge(var.tags, {
    team          = var.team
    "cost-center" = var.cost_center
    environment   = var.environment
  })
  timeouts = var.timeouts
}
