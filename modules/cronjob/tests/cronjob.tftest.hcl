# Runs against a real platform: the provider's acceptance suite runs it on the sandbox with
# TF_VAR_kubeconfig_path set to the workload cluster's kubeconfig.
variables {
  cluster   = "module-cronjob"
  namespace = "module-cronjob"
  name      = "report"
  image     = { repository = "ghcr.io/acme/report", tag = "0.9.2" }
  schedule  = "@daily"
}

run "register_cluster" {
  module {
    source = "../testing/register-cluster"
  }
}

run "rejects_bad_schedule" {
  command = plan
  variables {
    schedule = "every day"
  }
  expect_failures = [var.schedule]
}

run "rejects_unknown_concurrency_policy" {
  command = plan
  variables {
    concurrency_policy = "Sometimes"
  }
  expect_failures = [var.concurrency_policy]
}

run "install" {
  assert {
    condition     = idp_app.this.status == "deployed" && idp_app.this.resources == tolist(["CronJob/module-cronjob/report"])
    error_message = "the release is not deployed with its CronJob"
  }
}

run "suspend" {
  variables {
    schedule = "30 2 * * 1-5"
    suspend  = true
  }
  assert {
    condition     = idp_app.this.revision == 2
    error_message = "suspending did not upgrade the release"
  }
}
