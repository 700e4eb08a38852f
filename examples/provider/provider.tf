provider "idp" {
  management_cluster {
    kubeconfig_path = pathexpand("~/.kube/management.yaml")
  }

  vault {
    address           = "https://vault.example.com:8200"
    approle_role_id   = var.vault_role_id
    approle_secret_id = var.vault_secret_id
  }

  keycloak {
    url           = "https://keycloak.example.com"
    realm         = "platform"
    client_id     = "terraform-provider-idp"
    client_secret = var.keycloak_client_secret
  }

  # Charts downloaded from repositories and registries must be signed by a key of this keyring.
  helm {
    keyring = "/etc/idp/chart-signers.gpg"
  }
}
