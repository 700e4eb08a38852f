# Unit suite: runs without a platform (mock_provider), so it checks only what the module itself decides.
mock_provider "idp" {}

variables {
  cluster   = "payments-dev"
  namespace = "payments"
  name      = "api"
  image     = { repository = "ghcr.io/acme/api", tag = "2.3.1" }
}

run "defaults" {
  command = plan
  assert {
    condition     = idp_app.this.cluster == "payments-dev" && idp_app.this.namespace == "payments" && idp_app.this.name == "api"
    error_message = "the release is not named after the service in its cluster and namespace"
  }
  assert {
    condition     = idp_app.this.chart.catalog == "web-service" && idp_app.this.chart.version == "1.0.0" && idp_app.this.atomic == true
    error_message = "the release is not an atomic install of the catalog's web-service chart 1.0.0"
  }
  assert {
    condition     = yamldecode(idp_app.this.values).image.repository == "ghcr.io/acme/api" && yamldecode(idp_app.this.values).image.tag == "2.3.1"
    error_message = "the chart's values do not carry the image"
  }
  assert {
    condition     = yamldecode(idp_app.this.values).replicas == 2 && yamldecode(idp_app.this.values).containerPort == 8080 && length(yamldecode(idp_app.this.values).env) == 0
    error_message = "the service does not default to 2 replicas on port 8080 with no environment"
  }
  assert {
    condition     = yamldecode(idp_app.this.values).ingress.enabled == false && yamldecode(idp_app.this.values).ingress.host == ""
    error_message = "an Ingress is enabled although no ingress_host is set"
  }
  assert {
    condition     = yamldecode(idp_app.this.values).autoscaling.enabled == false && yamldecode(idp_app.this.values).serviceMonitor.enabled == false
    error_message = "autoscaling or the ServiceMonitor is on by default"
  }
  assert {
    condition     = output.service_url == "http://api.payments.svc"
    error_message = "service_url is not http://<name>.<namespace>.svc"
  }
}

run "exposed_autoscaled_and_monitored" {
  command = plan
  variables {
    replicas      = 4
    port          = 9090
    env           = { LOG_LEVEL = "debug" }
    ingress_host  = "api.payments.example.com"
    autoscaling   = { min_replicas = 3, max_replicas = 6 }
    monitoring    = true
    chart_version = "1.2.0"
  }
  assert {
    condition     = yamldecode(idp_app.this.values).ingress.enabled == true && yamldecode(idp_app.this.values).ingress.host == "api.payments.example.com"
    error_message = "the Ingress is not enabled on ingress_host"
  }
  assert {
    condition     = yamldecode(idp_app.this.values).autoscaling.enabled == true && yamldecode(idp_app.this.values).autoscaling.minReplicas == 3 && yamldecode(idp_app.this.values).autoscaling.maxReplicas == 6
    error_message = "autoscaling is not on between 3 and 6 replicas"
  }
  assert {
    condition     = yamldecode(idp_app.this.values).serviceMonitor.enabled == true
    error_message = "monitoring does not enable the ServiceMonitor"
  }
  assert {
    condition     = yamldecode(idp_app.this.values).replicas == 4 && yamldecode(idp_app.this.values).containerPort == 9090 && yamldecode(idp_app.this.values).env.LOG_LEVEL == "debug"
    error_message = "the replicas, port or environment are not passed to the chart"
  }
  assert {
    condition     = idp_app.this.chart.version == "1.2.0"
    error_message = "chart_version does not pick the chart's version"
  }
}

run "rejects_a_name_that_is_not_a_dns_label" {
  command = plan
  variables {
    name = "Api_Service"
  }
  expect_failures = [var.name]
}

run "rejects_the_latest_tag" {
  command = plan
  variables {
    image = { repository = "ghcr.io/acme/api", tag = "latest" }
  }
  expect_failures = [var.image]
}

run "rejects_fractional_replicas" {
  command = plan
  variables {
    replicas = 2.5
  }
  expect_failures = [var.replicas]
}

run "rejects_inverted_autoscaling" {
  command = plan
  variables {
    autoscaling = { min_replicas = 5, max_replicas = 2 }
  }
  expect_failures = [var.autoscaling]
}
