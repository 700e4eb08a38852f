variable "name" {
  description = "Name of the management cluster on the platform: its registration and its kubeconfig in Vault (`clusters/<name>/kubeconfig`)."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$", var.name))
    error_message = "name must be a DNS label of at most 40 characters: lowercase letters, digits and hyphens."
  }
}

variable "kubeconfig" {
  description = "Admin kubeconfig of the management cluster, which runs Crossplane core (v2). Write-only: stored in Vault, never in state or plan."
  type        = string
  sensitive   = true
  ephemeral   = true
}

variable "kubeconfig_version" {
  description = "Version of `kubeconfig`: change it to store a new kubeconfig in Vault."
  type        = number
  default     = 1
}

variable "namespace" {
  description = "Namespace of the release that holds the packages (the objects it installs are cluster-scoped); Crossplane's own by default."
  type        = string
  default     = "crossplane-system"
}

variable "chart_version" {
  description = "Version of the catalog's platform-configuration chart; null for the one the provider ships."
  type        = string
  default     = null
}

variable "configuration_package" {
  description = "The platform's Configuration package (OCI reference with a tag or digest); null for the one the chart pins, `xpkg.idp.dev/idp-platform/configuration:<version>`."
  type        = string
  default     = null
  validation {
    condition     = var.configuration_package == null || can(regex("^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)+(:[A-Za-z0-9._-]+|@sha256:[a-f0-9]{64})$", var.configuration_package))
    error_message = "configuration_package must be an OCI reference pinned by tag or digest, e.g. registry.example.com/idp-platform/configuration:v0.1.0."
  }
}

variable "functions" {
  description = "Composition functions to install, by name, as OCI references; null for the ones the chart pins (function-patch-and-transform, function-auto-ready, function-addon-stack). The Compositions call them by these names."
  type        = map(string)
  default     = null
  validation {
    condition     = var.functions == null || alltrue([for name, package in coalesce(var.functions, {}) : can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", name)) && can(regex("^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)+(:[A-Za-z0-9._-]+|@sha256:[a-f0-9]{64})$", package))])
    error_message = "functions maps DNS-label names to OCI references pinned by tag or digest."
  }
}

variable "package_mirror" {
  description = "Registry path that mirrors every package under its original path (`<mirror>/xpkg.crossplane.io/...`), for management clusters without access to the public registries; empty to pull from them."
  type        = string
  default     = ""
  validation {
    condition     = can(regex("^([a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)*)?$", var.package_mirror))
    error_message = "package_mirror must be a registry path such as registry.example.com:5000/xpkg-mirror, without a URL scheme."
  }
}
