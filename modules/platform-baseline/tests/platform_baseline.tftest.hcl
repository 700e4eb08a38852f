# Runs against a real platform: the provider's acceptance suite runs it on the sandbox with
# TF_VAR_kubeconfig_path set to the workload cluster's kubeconfig, and the sandbox's
# IDP_ADDON_CHART_MIRROR pointing the provider at its registry of fixture charts.
variables {
  cluster = "module-platform-baseline"
  # A small baseline keeps the suite short; the module's default adds monitoring and logging.
  addons = {
    cert_manager   = {}
    ingress        = {}
    metrics_server = {}
  }
  timeouts = { create = "8m", update = "8m", delete = "8m" }
}

run "register_cluster" {
  module {
    source = "../testing/register-cluster"
  }
}

run "rejects_unknown_addon" {
  command = plan
  variables {
    extra_addons = { service_mesh = {} }
  }
  expect_failures = [idp_addon_stack.this]
}

run "rejects_missing_dependency" {
  command = plan
  variables {
    addons = { ingress = {} }
  }
  expect_failures = [idp_addon_stack.this]
}

run "rejects_values_that_are_not_yaml" {
  command = plan
  variables {
    extra_addons = { metrics_server = { values = "replicas: [1" } }
  }
  expect_failures = [var.extra_addons]
}

run "install" {
  assert {
    condition     = output.id == "module-platform-baseline/baseline"
    error_message = "the stack's id is not cluster/stack"
  }
  assert {
    condition     = toset(keys(output.status)) == toset(["cert_manager", "ingress", "metrics_server"])
    error_message = "the stack's status does not list exactly cert_manager, ingress and metrics_server"
  }
  assert {
    condition     = alltrue([for addon in values(output.status) : addon.status == "Ready"]) && output.ready
    error_message = "not every add-on is Ready"
  }
  assert {
    condition     = output.status["cert_manager"].order < output.status["ingress"].order
    error_message = "ingress was not installed after cert_manager, which it depends on"
  }
}

run "remove_metrics_server" {
  variables {
    addons = {
      cert_manager = {}
      ingress      = {}
    }
  }
  assert {
    condition     = toset(keys(output.status)) == toset(["cert_manager", "ingress"])
    error_message = "metrics_server is still in the stack's status"
  }
  assert {
    condition     = output.ready
    error_message = "the remaining add-ons are not Ready"
  }
}
