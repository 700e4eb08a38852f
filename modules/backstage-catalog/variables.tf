variable "file" {
  description = "Where to write `catalog-info.yaml`; `catalog-info.yaml` in the root module's directory when null. Backstage reads it from the repository it is committed to, or from a URL it is served at."
  type        = string
  default     = null
}

variable "app_clusters" {
  description = "Clusters whose Helm releases become Backstage components (one list request each). None by default: clusters and teams are always described."
  type        = set(string)
  default     = []
  nullable    = false
  validation {
    condition     = alltrue([for cluster in var.app_clusters : can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", cluster))])
    error_message = "app_clusters must be cluster names: DNS-1123 labels."
  }
}

variable "default_owner" {
  description = "Owner of the entities no team owns (the management cluster, clusters of no team), as a Backstage entity reference."
  type        = string
  default     = "group:default/platform-team"
  nullable    = false
  validation {
    condition     = can(regex("^([a-zA-Z]+:)?([a-z0-9]+(-[a-z0-9]+)*/)?[a-zA-Z0-9]+([-_.][a-zA-Z0-9]+)*$", var.default_owner))
    error_message = "default_owner must be a Backstage entity reference such as group:default/platform-team."
  }
}

variable "namespace" {
  description = "Backstage namespace of every entity."
  type        = string
  default     = "default"
  nullable    = false
  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.namespace))
    error_message = "namespace must be a Backstage namespace: lowercase letters, digits and dashes, at most 63 characters."
  }
}
