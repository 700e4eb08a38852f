# OpenTofu and Terraform 1.12 or later: import by identity.
import {
  to       = idp_app.api
  identity = { cluster = "payments-dev", namespace = "payments", name = "api" }
}
