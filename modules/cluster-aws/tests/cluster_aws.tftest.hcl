# Runs against a real platform: the provider's acceptance suite runs it on the sandbox, where the
# platform's compositions create the cluster and the sandbox's cloud simulator plays AWS. The suite
# stores the team's credentials in Vault (modules/aws) beforehand.
variables {
  name        = "module-cluster-aws"
  team        = "modules"
  cost_center = "cc-test"
  timeouts    = { create = "5m", update = "5m", delete = "5m" }
}

run "rejects_unknown_environment" {
  command = plan
  variables {
    environment = "qa"
  }
  expect_failures = [var.environment]
}

run "create_development" {
  assert {
    condition     = output.status == "Ready"
    error_message = "the cluster is not Ready"
  }
  assert {
    condition     = output.node_pools["system"].instance_type == "m6i.large" && output.node_pools["system"].max_size == 3
    error_message = "the system pool does not have the development size"
  }
  assert {
    condition     = output.tags["environment"] == "development" && output.tags["team"] == "modules" && output.tags["cost-center"] == "cc-test"
    error_message = "the cluster does not carry the environment, team and cost-center tags"
  }
  assert {
    condition     = endswith(output.kubeconfig_path, "/clusters/module-cluster-aws/kubeconfig")
    error_message = "the kubeconfig is not at clusters/<name>/kubeconfig in Vault"
  }
}

run "grow_to_staging_with_a_batch_pool" {
  variables {
    environment = "staging"
    extra_node_pools = {
      batch = { instance_type = "c6i.xlarge", min_size = 0, max_size = 2 }
    }
  }
  assert {
    condition     = output.status == "Ready"
    error_message = "the cluster is not Ready after the change"
  }
  assert {
    condition     = output.node_pools["system"].instance_type == "m6i.xlarge" && output.node_pools["system"].min_size == 2
    error_message = "the system pool does not have the staging size"
  }
  assert {
    condition     = toset(keys(output.node_pools)) == toset(["system", "batch"])
    error_message = "the cluster's pools are not system and batch"
  }
}
