# The payments team: alice and bob may edit the payments namespace of the development and staging
# clusters, under a smaller quota than the default.
module "payments" {
  source = "../.."

  name     = "payments"
  clusters = ["payments-dev", "payments-staging"]
  members  = ["alice", "bob"]
  quota = {
    cpu  = { requests = "2", limits = "4" }
    pods = 10
  }
}

output "group" {
  value = module.payments.group
}

output "bindings" {
  value = module.payments.bindings
}
