# OpenTofu and Terraform 1.12 or later: import by identity.
import {
  to       = idp_addon_stack.baseline
  identity = { cluster = "payments-dev", name = "baseline" }
}
