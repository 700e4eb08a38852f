# Runs against a real platform: the provider's acceptance suite runs it on the sandbox with
# TF_VAR_kubeconfig_path set to the workload cluster's kubeconfig.
variables {
  cluster   = "module-worker"
  namespace = "module-worker"
  name      = "mailer"
  image     = { repository = "ghcr.io/acme/mailer", tag = "1.4.0" }
}

run "register_cluster" {
  module {
    source = "../testing/register-cluster"
  }
}

run "rejects_fractional_replicas" {
  command = plan
  variables {
    replicas = 1.5
  }
  expect_failures = [var.replicas]
}

run "install" {
  variables {
    args = ["--queue", "mail"]
  }
  assert {
    condition     = idp_app.this.status == "deployed" && idp_app.this.revision == 1
    error_message = "the release is not deployed at revision 1"
  }
  assert {
    condition     = idp_app.this.resources == tolist(["Deployment/module-worker/mailer"])
    error_message = "the release's only object is not the worker's Deployment"
  }
}

run "scale_to_zero" {
  variables {
    replicas = 0
  }
  assert {
    condition     = idp_app.this.revision == 2 && idp_app.this.status == "deployed"
    error_message = "scaling to zero did not upgrade the release"
  }
}
