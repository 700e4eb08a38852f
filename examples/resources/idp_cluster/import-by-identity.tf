# OpenTofu and Terraform 1.12 or later: import by identity.
import {
  to       = idp_cluster.legacy
  identity = { name = "legacy-prod" }
}
