# Unit suite: runs without a platform (mock_provider), so it checks only what the module itself decides.
mock_provider "idp" {}

# The module checks keys and dependencies against the catalog; a mock catalog would be empty, so this one
# has the provider's keys and dependencies (ingress needs cert_manager, logging needs monitoring).
override_data {
  target = data.idp_addon_catalog.this
  values = {
    addons = {
      for key, depends_on in {
        cert_manager   = []
        ingress        = ["cert_manager"]
        external_dns   = []
        metrics_server = []
        monitoring     = []
        logging        = ["monitoring"]
        storage        = []
      } :
      key => { name = key, description = "", chart = key, repository = "", namespace = key, default_version = "1.0.0", versions = ["1.0.0"], depends_on = depends_on }
    }
  }
}

variables {
  cluster = "payments-dev"
}

run "standard_baseline_by_default" {
  command = plan
  assert {
    condition     = idp_addon_stack.this.cluster == "payments-dev" && idp_addon_stack.this.name == "baseline"
    error_message = "the stack is not named baseline on the cluster"
  }
  assert {
    condition     = toset(keys(idp_addon_stack.this.addons)) == toset(["cert_manager", "ingress", "metrics_server", "monitoring", "logging"])
    error_message = "the default stack is not cert_manager, ingress, metrics_server, monitoring and logging"
  }
  assert {
    condition     = alltrue([for addon in values(idp_addon_stack.this.addons) : addon.version == null && addon.values == null])
    error_message = "the default add-ons pin a version or set values instead of taking the catalog's"
  }
  assert {
    condition     = idp_addon_stack.this.timeouts == null
    error_message = "the stack sets timeouts although none are given"
  }
}

run "extra_addons_merge_over_the_baseline" {
  command = plan
  variables {
    name = "edge"
    extra_addons = {
      storage    = {}
      ingress    = { version = "4.11.3" }
      monitoring = { values = "grafana:\n  enabled: false\n" }
    }
    timeouts = { create = "30m" }
  }
  assert {
    condition     = toset(keys(idp_addon_stack.this.addons)) == toset(["cert_manager", "ingress", "metrics_server", "monitoring", "logging", "storage"])
    error_message = "extra_addons do not add to the baseline"
  }
  assert {
    condition     = idp_addon_stack.this.addons["ingress"].version == "4.11.3" && idp_addon_stack.this.addons["cert_manager"].version == null
    error_message = "an extra add-on does not pin its own version only"
  }
  assert {
    condition     = yamldecode(idp_addon_stack.this.addons["monitoring"].values).grafana.enabled == false
    error_message = "an extra add-on's values are not passed to the stack"
  }
  assert {
    condition     = idp_addon_stack.this.name == "edge" && idp_addon_stack.this.timeouts.create == "30m"
    error_message = "the stack's name or create timeout is not passed to the stack"
  }
}

run "addons_replace_the_baseline" {
  command = plan
  variables {
    addons = { metrics_server = {} }
  }
  assert {
    condition     = keys(idp_addon_stack.this.addons) == tolist(["metrics_server"])
    error_message = "addons do not replace the whole default baseline"
  }
}

run "rejects_an_addon_the_catalog_lacks" {
  command = plan
  variables {
    extra_addons = { service_mesh = {} }
  }
  expect_failures = [idp_addon_stack.this]
}

run "rejects_a_missing_dependency" {
  command = plan
  variables {
    addons = { logging = {} }
  }
  expect_failures = [idp_addon_stack.this]
}

run "rejects_a_name_that_is_not_a_dns_label" {
  command = plan
  variables {
    name = "Base_Line"
  }
  expect_failures = [var.name]
}

run "rejects_addons_values_that_are_not_yaml" {
  command = plan
  variables {
    addons = { cert_manager = { values = "replicas: [1" } }
  }
  expect_failures = [var.addons]
}

run "rejects_extra_addons_values_that_are_not_yaml" {
  command = plan
  variables {
    extra_addons = { metrics_server = { values = "replicas: [1" } }
  }
  expect_failures = [var.extra_addons]
}
