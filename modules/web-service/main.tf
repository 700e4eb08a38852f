# A web service from the platform catalog's web-service chart: a Deployment behind a Service, with a
# PodDisruptionBudget, and optionally an Ingress, a HorizontalPodAutoscaler and a ServiceMonitor.
resource "idp_app" "this" {
  cluster   = var.cluster
  namespace = var.namespace
  name      = var.name
  chart     = { catalog = "web-service", version = var.chart_version }
  atomic    = true
  values = yamlencode({
    image         = var.image
    replicas      = var.replicas
    containerPort = var.port
    env           = var.env
    ingress = {
      enabled = var.ingress_host != null
      host    = var.ingress_host == null ? "" : var.ingress_host
    }
    autoscaling = {
      enabled     = var.autoscaling != null
      minReplicas = try(var.autoscaling.min_replicas, 2)
      maxReplicas = try(var.autoscaling.max_replicas, 10)
    }
    serviceMonitor = { enabled = var.monitoring }
  })
}
