# Unit suite: runs without a platform (mock_provider), so it checks only what the module itself decides.
mock_provider "idp" {}

variables {
  name        = "payments-dev"
  team        = "payments"
  cost_center = "cc-1042"
}

run "development_by_default" {
  command = plan
  assert {
    condition     = idp_cluster.this.cloud == "gcp" && idp_cluster.this.region == "europe-west1"
    error_message = "the cluster is not on GCP in europe-west1"
  }
  assert {
    condition     = idp_cluster.this.node_pools["system"].instance_type == "e2-standard-2" && idp_cluster.this.node_pools["system"].min_size == 1 && idp_cluster.this.node_pools["system"].max_size == 3
    error_message = "the system pool does not have the development size"
  }
  assert {
    condition     = idp_cluster.this.credentials == "payments/gcp"
    error_message = "the credentials are not the team's own"
  }
}

run "production_size" {
  command = plan
  variables {
    environment = "production"
  }
  assert {
    condition     = idp_cluster.this.node_pools["system"].instance_type == "e2-standard-4" && idp_cluster.this.node_pools["system"].min_size == 3 && idp_cluster.this.node_pools["system"].max_size == 12
    error_message = "the system pool does not have the production size"
  }
  assert {
    condition     = idp_cluster.this.tags["environment"] == "production"
    error_message = "the cluster is not tagged with its environment"
  }
}

run "the_module_tags_win" {
  command = plan
  variables {
    tags = { team = "someone-else", owner = "alice" }
  }
  assert {
    condition     = idp_cluster.this.tags == tomap({ team = "payments", "cost-center" = "cc-1042", environment = "development", owner = "alice" })
    error_message = "the module's tags do not override the caller's, or the caller's other tags are lost"
  }
}

run "extra_pools_and_named_credentials" {
  command = plan
  variables {
    credentials      = "shared/gcp"
    extra_node_pools = { batch = { instance_type = "c2-standard-8", min_size = 0, max_size = 4 } }
  }
  assert {
    condition     = toset(keys(idp_cluster.this.node_pools)) == toset(["system", "batch"]) && idp_cluster.this.credentials == "shared/gcp"
    error_message = "the extra pool or the named credentials are not planned"
  }
}

run "rejects_unknown_environment" {
  command = plan
  variables {
    environment = "qa"
  }
  expect_failures = [var.environment]
}

run "rejects_a_pool_named_system" {
  command = plan
  variables {
    extra_node_pools = { system = { instance_type = "e2-standard-2", min_size = 1, max_size = 2 } }
  }
  expect_failures = [var.extra_node_pools]
}

run "rejects_inverted_sizes" {
  command = plan
  variables {
    node_pool_sizes = {
      development = { instance_type = "e2-standard-2", min_size = 4, max_size = 2 }
      staging     = { instance_type = "e2-standard-2", min_size = 1, max_size = 2 }
      production  = { instance_type = "e2-standard-2", min_size = 1, max_size = 2 }
    }
  }
  expect_failures = [var.node_pool_sizes]
}

run "requires_a_size_per_environment" {
  command = plan
  variables {
    node_pool_sizes = { development = { instance_type = "e2-standard-2", min_size = 1, max_size = 2 } }
  }
  expect_failures = [var.node_pool_sizes]
}
