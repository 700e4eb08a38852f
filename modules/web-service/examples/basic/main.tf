# A web service on a platform cluster, exposed through an Ingress and autoscaled.
module "api" {
  source = "../.."

  cluster      = "payments-dev"
  namespace    = "payments"
  name         = "api"
  image        = { repository = "ghcr.io/acme/api", tag = "2.3.1" }
  ingress_host = "api.payments.example.com"
  autoscaling  = { min_replicas = 2, max_replicas = 6 }
}

output "service_url" {
  value = module.api.service_url
}
