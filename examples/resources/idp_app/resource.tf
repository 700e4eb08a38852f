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

# A chart from an HTTP chart repository: the archive must match the index's digest.
resource "idp_app" "cache" {
  cluster   = idp_cluster.payments_dev.name
  namespace = "payments"
  name      = "cache"
  chart = {
    repository = "https://charts.example.com/stable"
    name       = "redis"
    version    = "19.6.4"
  }
  values = yamlencode({ architecture = "standalone" })
}

# A chart from an OCI registry, pinned to the archive's digest.
resource "idp_app" "worker" {
  cluster   = idp_cluster.payments_dev.name
  namespace = "payments"
  name      = "worker"
  chart = {
    oci     = "oci://ghcr.io/acme/charts/worker"
    version = "2.1.0"
    digest  = "sha256:4f2c1b9e8d7a6f5e4d3c2b1a09f8e7d6c5b4a3928170f6e5d4c3b2a1908f7e6d"
  }
}
