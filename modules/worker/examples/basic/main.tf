# A queue worker on a platform cluster, autoscaled on CPU.
module "mailer" {
  source = "../.."

  cluster     = "payments-dev"
  namespace   = "payments"
  name        = "mailer"
  image       = { repository = "ghcr.io/acme/mailer", tag = "1.4.0" }
  args        = ["--queue", "mail"]
  autoscaling = { min_replicas = 1, max_replicas = 4 }
}
