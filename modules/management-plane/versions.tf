terraform {
  required_version = ">= 1.11.0"
  required_providers {
    idp = {
      source  = "idp-platform/idp"
      version = ">= 0.1.0"
    }
  }
}
