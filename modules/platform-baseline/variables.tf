variable "cluster" {
  description = "Name of the platform cluster (idp_cluster) the add-ons go on."
  type        = string
}

variable "name" {
  description = "Name of the stack on the cluster."
  type        = string
  default     = "baseline"
  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.name))
    error_message = "name must be a DNS-1123 label of at most 63 characters."
  }
}

variable "addons" {
  description = "The add-ons by catalog key, each at an optional exact catalog version (the catalog's default when unset) with optional YAML values over the catalog's defaults. The default is the standard-issue baseline; storage and external_dns need cloud and DNS specifics, so they are left out."
  type = map(object({
    version = optional(string)
    values  = optional(string)
  }))
  default = {
    cert_manager   = {}
    ingress        = {}
    metrics_server = {}
    monitoring     = {}
    logging        = {}
  }
  validation {
    condition     = alltrue([for addon in values(var.addons) : addon.values == null || can(yamldecode(addon.values))])
    error_message = "addons' values must be YAML, e.g. yamlencode({ replicaCount = 2 })."
  }
}

variable "extra_addons" {
  description = "Add-ons merged over addons, by key (an entry replaces the whole entry of the same key): to add e.g. storage or external_dns to the baseline, or to pin one add-on's version, without restating the rest."
  type = map(object({
    version = optional(string)
    values  = optional(string)
  }))
  default = {}
  validation {
    condition     = alltrue([for addon in values(var.extra_addons) : addon.values == null || can(yamldecode(addon.values))])
    error_message = "extra_addons' values must be YAML, e.g. yamlencode({ replicaCount = 2 })."
  }
}

variable "timeouts" {
  description = "How long an apply waits for every add-on to be Ready (create, update) and for their removal (delete), e.g. \"20m\"; the provider's defaults (20m, 20m, 10m) when unset."
  type = object({
    create = optional(string)
    update = optional(string)
    delete = optional(string)
  })
  default = null
}
