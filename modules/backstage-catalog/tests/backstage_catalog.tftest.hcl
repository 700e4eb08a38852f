# Runs against a real platform: the provider's acceptance suite runs it on the sandbox with
# TF_VAR_kubeconfig_path set to the workload cluster's kubeconfig.
variables {
  cluster      = "module-backstage-catalog"
  app_clusters = ["module-backstage-catalog"]
}

run "register_cluster" {
  module {
    source = "../testing/register-cluster"
  }
}

run "release_an_app" {
  module {
    source = "../web-service"
  }
  variables {
    namespace = "module-backstage-catalog"
    name      = "catalogued"
    image     = { repository = "ghcr.io/acme/api", tag = "2.3.1" }
  }
}

run "rejects_bad_owner" {
  command = plan
  variables {
    default_owner = "group:default/"
  }
  expect_failures = [var.default_owner]
}

run "writes_catalog_info" {
  assert {
    condition     = contains(output.entities["Resource"], "resource:default/module-backstage-catalog")
    error_message = "the registered cluster is not a Resource of the catalog"
  }
  assert {
    condition     = contains(output.entities["Component"], "component:default/catalogued")
    error_message = "the release is not a Component of the catalog"
  }
  assert {
    condition     = file(output.file) == output.yaml && sha256(file(output.file)) == output.sha256
    error_message = "catalog-info.yaml does not hold the catalog"
  }
  assert {
    condition     = strcontains(output.yaml, "backstage.io/kubernetes-id: catalogued")
    error_message = "the component is not annotated with the release's kubernetes-id"
  }
}
