# OpenTofu and Terraform 1.12 or later: import by identity; scope is as in the import ID.
import {
  to       = idp_access.payments_devs
  identity = { cluster = "payments-dev", group = "payments-developers", scope = "payments" }
}
