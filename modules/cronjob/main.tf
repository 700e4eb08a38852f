# A scheduled job from the platform catalog's cronjob chart.
resource "idp_app" "this" {
  cluster   = var.cluster
  namespace = var.namespace
  name      = var.name
  chart     = { catalog = "cronjob", version = var.chart_version }
  atomic    = true
  values = yamlencode({
    image             = var.image
    schedule          = var.schedule
    timeZone          = var.time_zone
    concurrencyPolicy = var.concurrency_policy
    suspend           = var.suspend
    args              = var.args
    env               = var.env
  })
}
