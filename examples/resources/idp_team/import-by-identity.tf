# OpenTofu and Terraform 1.12 or later: import by identity.
import {
  to       = idp_team.payments
  identity = { name = "payments" }
}
