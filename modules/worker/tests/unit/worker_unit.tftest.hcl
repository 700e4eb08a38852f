# Unit suite: runs without a platform (mock_provider), so it checks only what the module itself decides.
mock_provider "idp" {}

variables {
  cluster   = "payments-dev"
  namespace = "payments"
  name      = "mailer"
  image     = { repository = "ghcr.io/acme/mailer", tag = "1.4.0" }
}

run "defaults" {
  command = plan
  assert {
    condition     = idp_app.this.cluster == "payments-dev" && idp_app.this.namespace == "payments" && idp_app.this.name == "mailer"
    error_message = "the release is not named after the worker in its cluster and namespace"
  }
  assert {
    condition     = idp_app.this.chart.catalog == "worker" && idp_app.this.chart.version == "1.0.0" && idp_app.this.atomic == true
    error_message = "the release is not an atomic install of the catalog's worker chart 1.0.0"
  }
  assert {
    condition     = yamldecode(idp_app.this.values).image.repository == "ghcr.io/acme/mailer" && yamldecode(idp_app.this.values).image.tag == "1.4.0"
    error_message = "the chart's values do not carry the image"
  }
  assert {
    condition     = yamldecode(idp_app.this.values).replicas == 1 && length(yamldecode(idp_app.this.values).args) == 0 && length(yamldecode(idp_app.this.values).env) == 0
    error_message = "the worker does not default to 1 replica with no arguments and no environment"
  }
  assert {
    condition     = yamldecode(idp_app.this.values).autoscaling.enabled == false
    error_message = "autoscaling is on by default"
  }
}

run "arguments_environment_and_autoscaling" {
  command = plan
  variables {
    args          = ["--queue", "mail"]
    env           = { SMTP_HOST = "smtp.internal" }
    autoscaling   = { min_replicas = 2, max_replicas = 8 }
    chart_version = "1.1.0"
  }
  assert {
    condition     = yamldecode(idp_app.this.values).args == ["--queue", "mail"] && yamldecode(idp_app.this.values).env.SMTP_HOST == "smtp.internal"
    error_message = "the arguments or the environment are not passed to the chart"
  }
  assert {
    condition     = yamldecode(idp_app.this.values).autoscaling.enabled == true && yamldecode(idp_app.this.values).autoscaling.minReplicas == 2 && yamldecode(idp_app.this.values).autoscaling.maxReplicas == 8
    error_message = "autoscaling is not on between 2 and 8 replicas"
  }
  assert {
    condition     = idp_app.this.chart.version == "1.1.0"
    error_message = "chart_version does not pick the chart's version"
  }
}

run "scales_to_zero" {
  command = plan
  variables {
    replicas = 0
  }
  assert {
    condition     = yamldecode(idp_app.this.values).replicas == 0
    error_message = "a worker cannot be scaled to zero replicas"
  }
}

run "rejects_a_name_that_is_not_a_dns_label" {
  command = plan
  variables {
    name = "Mailer_Worker"
  }
  expect_failures = [var.name]
}

run "rejects_the_latest_tag" {
  command = plan
  variables {
    image = { repository = "ghcr.io/acme/mailer", tag = "latest" }
  }
  expect_failures = [var.image]
}

run "rejects_fractional_replicas" {
  command = plan
  variables {
    replicas = 1.5
  }
  expect_failures = [var.replicas]
}

run "rejects_inverted_autoscaling" {
  command = plan
  variables {
    autoscaling = { min_replicas = 4, max_replicas = 2 }
  }
  expect_failures = [var.autoscaling]
}
