# Runs against a real platform: the provider's acceptance suite runs it on the sandbox with
# TF_VAR_kubeconfig_path set to the workload cluster's kubeconfig.
variables {
  cluster   = "module-web-service"
  namespace = "module-web-service"
  name      = "api"
  image     = { repository = "ghcr.io/acme/api", tag = "2.3.1" }
}

run "register_cluster" {
  module {
    source = "../testing/register-cluster"
  }
}

run "rejects_latest_tag" {
  command = plan
  variables {
    image = { repository = "ghcr.io/acme/api", tag = "latest" }
  }
  expect_failures = [var.image]
}

run "rejects_inverted_autoscaling" {
  command = plan
  variables {
    autoscaling = { min_replicas = 5, max_replicas = 2 }
  }
  expect_failures = [var.autoscaling]
}

run "install" {
  variables {
    replicas = 2
  }
  assert {
    condition     = idp_app.this.status == "deployed" && idp_app.this.revision == 1
    error_message = "the release is not deployed at revision 1"
  }
  assert {
    condition     = toset(idp_app.this.resources) == toset(["Deployment/module-web-service/api", "PodDisruptionBudget/module-web-service/api", "Service/module-web-service/api"])
    error_message = "the release's objects are not a Deployment, a PodDisruptionBudget and a Service"
  }
}

run "expose_and_autoscale" {
  variables {
    ingress_host = "api.example.com"
    autoscaling  = { min_replicas = 2, max_replicas = 4 }
  }
  assert {
    condition     = idp_app.this.revision == 2
    error_message = "the change did not upgrade the release"
  }
  assert {
    condition     = contains(idp_app.this.resources, "Ingress/module-web-service/api") && contains(idp_app.this.resources, "HorizontalPodAutoscaler/module-web-service/api")
    error_message = "the release has no Ingress or no HorizontalPodAutoscaler"
  }
  assert {
    condition     = output.service_url == "http://api.module-web-service.svc"
    error_message = "service_url is wrong"
  }
}
