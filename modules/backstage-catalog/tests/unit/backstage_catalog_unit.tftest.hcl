# Runs without a platform: the provider is mocked, so this checks the module's own logic only.
mock_provider "idp" {
  mock_data "idp_catalog" {
    defaults = {
      yaml = "apiVersion: backstage.io/v1alpha1\nkind: Group\n"
      entities = [
        { kind = "Group", name = "payments", ref = "group:default/payments", json = "{}" },
        { kind = "Resource", name = "payments-prod", ref = "resource:default/payments-prod", json = "{}" },
        { kind = "Resource", name = "idp-management", ref = "resource:default/idp-management", json = "{}" },
      ]
    }
  }
}

run "groups_entities_by_kind" {
  command = plan
  assert {
    condition     = output.entities["Resource"] == ["resource:default/payments-prod", "resource:default/idp-management"] && output.entities["Group"] == ["group:default/payments"]
    error_message = "the entities are not grouped by kind"
  }
  assert {
    condition     = endswith(terraform_data.catalog_info.input.file, "/catalog-info.yaml")
    error_message = "the file is not catalog-info.yaml in the root module by default"
  }
}

run "writes_where_asked" {
  command = plan
  variables {
    file = "/tmp/platform/catalog-info.yaml"
  }
  assert {
    condition     = terraform_data.catalog_info.input.file == "/tmp/platform/catalog-info.yaml"
    error_message = "the file is not written where asked"
  }
}

run "rejects_bad_cluster" {
  command = plan
  variables {
    app_clusters = ["Payments_Prod"]
  }
  expect_failures = [var.app_clusters]
}

run "rejects_bad_namespace" {
  command = plan
  variables {
    namespace = "Default"
  }
  expect_failures = [var.namespace]
}
