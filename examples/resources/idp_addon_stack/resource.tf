resource "idp_addon_stack" "baseline" {
  cluster = idp_cluster.payments_dev.id
  name    = "baseline"
  addons = {
    ingress        = { version = "4.12.1" }
    cert_manager   = { values = yamlencode({ replicaCount = 2 }) }
    external_dns   = { values = yamlencode({ domainFilters = ["payments.example.com"] }) }
    storage        = {}
    metrics_server = {}
    monitoring     = {}
    logging        = {}
  }
  timeouts = { create = "20m", update = "20m", delete = "10m" }
}

output "addons_ready" {
  value = alltrue([for addon in values(idp_addon_stack.baseline.status) : addon.status == "Ready"])
}

# On a registered cluster (cloud = "existing") the catalog knows no CSI driver: storage needs a provisioner.
resource "idp_addon_stack" "legacy" {
  cluster = idp_cluster.legacy.id
  name    = "baseline"
  addons = {
    cert_manager = {}
    storage      = { values = yamlencode({ provisioner = "csi.vsphere.vmware.com", default = true }) }
  }
}
