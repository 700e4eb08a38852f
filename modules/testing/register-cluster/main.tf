# Registers the cluster that the modules' test suites release into: the kubeconfig at kubeconfig_path (the sandbox's
# workload cluster when the tests run in the provider's suite) is stored in Vault under cluster.
terraform {
  required_providers {
    idp = { source = "idp-platform/idp" }
  }
}

variable "cluster" {
  type = string
}

variable "kubeconfig_path" {
  type = string
}

resource "idp_cluster" "this" {
  name          = var.cluster
  cloud         = "existing"
  kubeconfig_wo = file(var.kubeconfig_path)
}
