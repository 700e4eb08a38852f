# The quickstart: point the idp provider at a platform, report what it reaches, register the
# management cluster and a workload cluster, ship an application to the workload cluster, create a
# cluster on AWS and put the platform's add-ons on it. `make demo` runs it against the local sandbox,
# whose IDP_* environment variables configure the provider (IDP_ADDON_CHART_MIRROR points it at the
# sandbox's registry of add-on charts).
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

# Register the platform's own management cluster: its admin kubeconfig goes to Vault, never to state.
variable "management_kubeconfig" {
  description = "Path of the management cluster's admin kubeconfig (make demo passes the sandbox's)."
  type        = string
}

resource "idp_cluster" "management" {
  name          = "management"
  cloud         = "existing"
  kubeconfig_wo = file(var.management_kubeconfig)
}

output "management_cluster_endpoint" {
  description = "API server of the registered cluster."
  value       = idp_cluster.management.endpoint
}

output "management_cluster_kubeconfig_path" {
  description = "Where its admin kubeconfig is in Vault (vault kv get <path>)."
  value       = idp_cluster.management.kubeconfig_path
}

# Register a workload cluster and ship an application to it from the platform's chart catalog.
variable "workload_kubeconfig" {
  description = "Path of the workload cluster's admin kubeconfig (make demo passes the sandbox's)."
  type        = string
}

resource "idp_cluster" "workload" {
  name          = "workload"
  cloud         = "existing"
  kubeconfig_wo = file(var.workload_kubeconfig)
}

resource "idp_app" "hello" {
  cluster   = idp_cluster.workload.name
  namespace = "hello"
  name      = "hello"
  chart     = { catalog = "web-service", version = "1.0.0" }
  values = yamlencode({
    image    = { repository = "ghcr.io/acme/hello", tag = "1.0.0" }
    replicas = 2
  })
}

output "hello_release" {
  description = "The application's Helm release: status, revision and chart version."
  value = {
    status        = idp_app.hello.status
    revision      = idp_app.hello.revision
    chart_version = idp_app.hello.chart_version
  }
}

# Create a cluster on AWS: EKS through the platform's Crossplane composition (in the sandbox the cloud is
# simulated and the cluster is a local API server), with credentials the platform keeps in Vault.
variable "aws_credentials" {
  description = "Name of the AWS credentials under <prefix>/credentials/ in Vault (make demo stores aws/demo)."
  type        = string
  default     = "aws/demo"
}

resource "idp_cluster" "payments_dev" {
  name               = "payments-dev"
  cloud              = "aws"
  region             = "eu-west-1"
  kubernetes_version = "1.33"
  credentials        = var.aws_credentials
  node_pools = {
    default = { instance_type = "m6i.large", min_size = 2, max_size = 5 }
  }
  tags = { team = "payments" }
}

output "payments_dev_endpoint" {
  description = "API server of the AWS cluster."
  value       = idp_cluster.payments_dev.endpoint
}

output "payments_dev_kubeconfig_path" {
  description = "Where its admin kubeconfig is in Vault (vault kv get <path>)."
  value       = idp_cluster.payments_dev.kubeconfig_path
}

# Put the platform's add-ons on the AWS cluster, from the provider's add-on catalog: Crossplane installs
# them in dependency order (ingress after cert-manager) and keeps them in place; storage makes gp3 the
# cluster's default StorageClass.
resource "idp_addon_stack" "baseline" {
  cluster = idp_cluster.payments_dev.id
  name    = "baseline"
  addons = {
    cert_manager   = {}
    ingress        = {}
    storage        = {}
    metrics_server = {}
  }
}

output "payments_dev_addons" {
  description = "Each add-on on the AWS cluster: its version, status and install order."
  value = {
    for key, addon in idp_addon_stack.baseline.status : key => {
      version = addon.version
      status  = addon.status
      order   = addon.order
    }
  }
}
