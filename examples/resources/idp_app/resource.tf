resource "idp_app" "api" {
  cluster   = idp_cluster.payments_dev.name
  namespace = "payments"
  name      = "api"
  chart     = { catalog = "web-service", version = "1.0.0" }
  values = yamlencode({
    image    = { repository = "ghcr.io/acme/api", tag = "2.3.1" }
    replicas = 3
  })
  wait   = true
  atomic = true
}
