data "idp_cluster" "payments" {
  name = "payments-dev"
}

output "payments_status" {
  value = data.idp_cluster.payments.status
}
