# The quickstart: point the idp provider at a platform and report what it reaches. `make demo` runs it
# against the local sandbox, whose IDP_* environment variables configure the provider.
terraform {
  required_providers {
    idp = {
      source = "idp-platform/idp"
    }
  }
}

provider "idp" {}

data "idp_platform" "this" {}

output "management_cluster" {
  description = "The management cluster's API server, Kubernetes version and whether Crossplane is installed."
  value       = data.idp_platform.this.management_cluster
}

output "vault" {
  description = "Vault's version and seal status, and where the platform keeps its secrets."
  value       = data.idp_platform.this.vault
}

output "keycloak" {
  description = "The Keycloak realm that grants cluster access, and its OIDC issuer."
  value       = data.idp_platform.this.keycloak
}
