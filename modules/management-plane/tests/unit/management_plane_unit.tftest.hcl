# Unit suite: runs without a platform (mock_provider), so it checks only what the module itself decides.
mock_provider "idp" {}

variables {
  name = "management"
  # Checked at plan (it must name its server and embed what it needs), never stored by the mock.
  kubeconfig = <<-EOT
    apiVersion: v1
    kind: Config
    current-context: management
    contexts:
      - name: management
        context: { cluster: management, user: admin }
    clusters:
      - name: management
        cluster: { server: "https://127.0.0.1:6443" }
    users:
      - name: admin
        user: { token: unit-test }
  EOT
}

run "chart_defaults" {
  command = plan
  assert {
    condition     = idp_cluster.this.cloud == "existing" && idp_app.platform.cluster == "management"
    error_message = "the management cluster is not registered and released into"
  }
  assert {
    condition     = idp_app.platform.chart.catalog == "platform-configuration" && idp_app.platform.namespace == "crossplane-system"
    error_message = "the release is not the catalog's platform-configuration chart in crossplane-system"
  }
  assert {
    condition     = yamldecode(idp_app.platform.values) == { mirror = "" }
    error_message = "the release overrides the chart's packages without being asked to"
  }
}

run "mirror_and_packages" {
  command = plan
  variables {
    package_mirror        = "registry.internal:5000/xpkg-mirror"
    configuration_package = "registry.internal:5000/idp/configuration:v0.2.0"
    functions             = { function-auto-ready = "registry.internal:5000/fn/auto-ready:v0.5.0" }
  }
  assert {
    condition     = yamldecode(idp_app.platform.values).mirror == "registry.internal:5000/xpkg-mirror"
    error_message = "the mirror is not passed to the chart"
  }
  assert {
    condition     = yamldecode(idp_app.platform.values).configuration.package == "registry.internal:5000/idp/configuration:v0.2.0"
    error_message = "the Configuration package is not passed to the chart"
  }
  assert {
    condition     = yamldecode(idp_app.platform.values).functions == [{ name = "function-auto-ready", package = "registry.internal:5000/fn/auto-ready:v0.5.0" }]
    error_message = "the functions are not passed to the chart as a list of names and packages"
  }
}

run "rejects_bad_name" {
  command = plan
  variables {
    name = "Management_1"
  }
  expect_failures = [var.name]
}

run "rejects_unpinned_package" {
  command = plan
  variables {
    configuration_package = "xpkg.idp.dev/idp-platform/configuration"
  }
  expect_failures = [var.configuration_package]
}

run "rejects_bad_function" {
  command = plan
  variables {
    functions = { Patch = "xpkg.crossplane.io/crossplane-contrib/function-patch-and-transform:v0.5.0" }
  }
  expect_failures = [var.functions]
}

run "rejects_mirror_url" {
  command = plan
  variables {
    package_mirror = "https://registry.internal/xpkg"
  }
  expect_failures = [var.package_mirror]
}
