# A nightly report on a platform cluster.
module "report" {
  source = "../.."

  cluster   = "payments-dev"
  namespace = "payments"
  name      = "nightly-report"
  image     = { repository = "ghcr.io/acme/report", tag = "0.9.2" }
  schedule  = "30 2 * * *"
  time_zone = "Europe/Berlin"
}
