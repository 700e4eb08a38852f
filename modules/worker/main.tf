# A background worker from the platform catalog's worker chart: a Deployment without a Service, and
# optionally a HorizontalPodAutoscaler.
resource "idp_app" "this" {
  cluster   = var.cluster
  namespace = var.namespace
  name      = var.name
  chart     = { catalog = "worker", version = var.chart_version }
  atomic    = true
  values = yamlencode({
    image    = var.image
    replicas = var.replicas
    args     = var.args
    env      = var.env
    autoscaling = {
      enabled     = var.autoscaling != null
      minReplicas = try(var.autoscaling.min_replicas, 1)
      maxReplicas = try(var.autoscaling.max_replicas, 5)
    }
  })
}
