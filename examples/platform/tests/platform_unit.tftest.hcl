# Runs without a platform (mock_provider): checks how the example composes the catalog's modules. The
# modules' own suites, on the sandbox, check what each of them makes.
mock_provider "idp" {
  # The baseline checks its add-ons against the catalog, which a mock would leave empty.
  mock_data "idp_addon_catalog" {
    defaults = {
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
  mock_data "idp_catalog" {
    defaults = {
      yaml     = "apiVersion: backstage.io/v1alpha1\n"
      entities = [{ kind = "Component", name = "api", ref = "component:default/api", json = "{}" }]
    }
  }
}

run "one_production_cluster_per_cloud" {
  command = plan
  assert {
    condition     = toset(values(local.clusters)) == toset(["payments-prod-aws", "payments-prod-azure", "payments-prod-gcp"])
    error_message = "the team does not get one cluster per cloud"
  }
  assert {
    condition     = module.cluster_aws.tags["environment"] == "production" && module.cluster_gcp.tags["team"] == "payments"
    error_message = "the clusters are not the team's production clusters"
  }
}

run "baseline_team_and_api_on_every_cluster" {
  command = plan
  assert {
    condition     = toset(keys(module.baseline)) == toset(["aws", "azure", "gcp"]) && toset(keys(module.api)) == toset(["aws", "azure", "gcp"])
    error_message = "a cluster lacks its baseline or its api"
  }
  assert {
    condition     = module.team.namespace == "payments"
    error_message = "the team does not get its namespace"
  }
}
