# Bring every release the helm CLI made in the payments namespace under Terraform.
data "idp_apps" "payments" {
  cluster   = "payments-dev"
  namespace = "payments"
}

output "payments_releases" {
  value = { for app in data.idp_apps.payments.apps : app.id => "${app.chart} ${app.chart_version} (${app.status})" }
}
