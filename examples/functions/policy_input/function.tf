# What the platform's policies would say of a cluster, before planning it: write the input they read
# and run `conftest test --policy policy/ cluster-input.json` (or `opa eval`) on it.
resource "terraform_data" "cluster_policy_input" {
  input = provider::idp::policy_input("idp_cluster", {
    name       = "payments-prod"
    cloud      = "aws"
    region     = "eu-west-1"
    node_pools = { default = { instance_type = "m6i.large", min_size = 3, max_size = 12 } }
    tags       = { team = "payments", cost-center = "cc-1042" }
  }, { team = "payments", cluster = { name = "payments-prod", environment = "production" } })

  provisioner "local-exec" {
    command     = "printf '%s' \"$POLICY_INPUT\" > cluster-input.json"
    environment = { POLICY_INPUT = self.input }
  }
}
