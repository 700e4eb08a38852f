# The payments team: its runs may use the cloud credentials under credentials/payments/ and the
# clusters named payments-*, and list the names of the platform's clusters; nothing else of Vault's.
resource "idp_team" "payments" {
  name     = "payments"
  clusters = ["payments-*"]
}

# The team's CI logs in with the role ID and a secret ID issued outside Terraform, e.g.
#   vault write -f auth/approle/role/idp-team-payments/secret-id
# and configures the provider with them:
#   provider "idp" {
#     vault {
#       approle_role_id   = "<idp_team.payments.approle_role_id>"
#       approle_secret_id = var.vault_secret_id
#     }
#   }
output "payments_role_id" {
  value = idp_team.payments.approle_role_id
}
