# Unit suite: runs without a platform (mock_provider), so it checks only what the module itself decides.
mock_provider "idp" {}

variables {
  cluster   = "payments-dev"
  namespace = "payments"
  name      = "report"
  image     = { repository = "ghcr.io/acme/report", tag = "0.9.2" }
  schedule  = "@daily"
}

run "defaults" {
  command = plan
  assert {
    condition     = idp_app.this.cluster == "payments-dev" && idp_app.this.namespace == "payments" && idp_app.this.name == "report"
    error_message = "the release is not named after the job in its cluster and namespace"
  }
  assert {
    condition     = idp_app.this.chart.catalog == "cronjob" && idp_app.this.chart.version == "1.0.0" && idp_app.this.atomic == true
    error_message = "the release is not an atomic install of the catalog's cronjob chart 1.0.0"
  }
  assert {
    condition     = yamldecode(idp_app.this.values).image.repository == "ghcr.io/acme/report" && yamldecode(idp_app.this.values).image.tag == "0.9.2"
    error_message = "the chart's values do not carry the image"
  }
  assert {
    condition     = yamldecode(idp_app.this.values).schedule == "@daily" && yamldecode(idp_app.this.values).timeZone == "Etc/UTC"
    error_message = "the job does not run on its schedule in UTC by default"
  }
  assert {
    condition     = yamldecode(idp_app.this.values).concurrencyPolicy == "Forbid" && yamldecode(idp_app.this.values).suspend == false
    error_message = "the job does not default to forbidding overlapping runs, unsuspended"
  }
  assert {
    condition     = length(yamldecode(idp_app.this.values).args) == 0 && length(yamldecode(idp_app.this.values).env) == 0
    error_message = "the job has arguments or environment it was not given"
  }
}

run "cron_fields_time_zone_and_suspend" {
  command = plan
  variables {
    schedule           = "30 2 * * 1-5"
    time_zone          = "Europe/Berlin"
    concurrency_policy = "Replace"
    suspend            = true
    args               = ["--format", "pdf"]
    env                = { REPORT_BUCKET = "reports" }
    chart_version      = "1.3.0"
  }
  assert {
    condition     = yamldecode(idp_app.this.values).schedule == "30 2 * * 1-5" && yamldecode(idp_app.this.values).timeZone == "Europe/Berlin"
    error_message = "the cron schedule or the time zone is not passed to the chart"
  }
  assert {
    condition     = yamldecode(idp_app.this.values).concurrencyPolicy == "Replace" && yamldecode(idp_app.this.values).suspend == true
    error_message = "the concurrency policy or the suspension is not passed to the chart"
  }
  assert {
    condition     = yamldecode(idp_app.this.values).args == ["--format", "pdf"] && yamldecode(idp_app.this.values).env.REPORT_BUCKET == "reports"
    error_message = "the arguments or the environment are not passed to the chart"
  }
  assert {
    condition     = idp_app.this.chart.version == "1.3.0"
    error_message = "chart_version does not pick the chart's version"
  }
}

run "rejects_a_name_that_is_not_a_dns_label" {
  command = plan
  variables {
    name = "Report_Job"
  }
  expect_failures = [var.name]
}

run "rejects_the_latest_tag" {
  command = plan
  variables {
    image = { repository = "ghcr.io/acme/report", tag = "latest" }
  }
  expect_failures = [var.image]
}

run "rejects_a_schedule_that_is_not_cron" {
  command = plan
  variables {
    schedule = "every day"
  }
  expect_failures = [var.schedule]
}

run "rejects_an_unknown_concurrency_policy" {
  command = plan
  variables {
    concurrency_policy = "Sometimes"
  }
  expect_failures = [var.concurrency_policy]
}
