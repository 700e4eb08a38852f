variable "name" {
  description = "Name of the cluster on the platform: its composite, its kubeconfig in Vault (`clusters/<name>/kubeconfig`) and the GKE cluster's name."
  type        = string
}

variable "team" {
  description = "Team that owns the cluster, tagged `team` (the policy library requires it for cost attribution)."
  type        = string
}

variable "cost_center" {
  description = "Cost center the cluster is billed to, tagged `cost-center` (the policy library requires it)."
  type        = string
}

variable "environment" {
  description = "Environment of the cluster: development, staging or production. It sets the node pool's machine type and size (see `node_pool_sizes`) and is tagged `environment`, which the policy library reads for its per-environment limits."
  type        = string
  default     = "development"
  validation {
    condition     = contains(["development", "staging", "production"], var.environment)
    error_message = "environment must be development, staging or production."
  }
}

variable "region" {
  description = "GCP region of the cluster; which regions the platform offers is the policy library's `regions` setting, checked at plan."
  type        = string
  default     = "europe-west1"
}

variable "kubernetes_version" {
  description = "Kubernetes minor version, e.g. \"1.33\"; upgrades go one minor at a time."
  type        = string
  default     = "1.33"
}

variable "credentials" {
  description = "Where the GCP credentials are in Vault, under `<kv_mount>/<prefix>/credentials/`; the team's own, `<team>/gcp`, when null."
  type        = string
  default     = null
}

variable "node_pool_sizes" {
  description = "Instance type and node counts of the cluster's `system` pool per environment. The largest sizes the platform allows are the policy library's `max_pool_nodes`, checked at plan; these are the catalog's standard sizes below them."
  type = map(object({
    instance_type = string
    min_size      = number
    max_size      = number
  }))
  default = {
    development = { instance_type = "e2-standard-2", min_size = 1, max_size = 3 }
    staging     = { instance_type = "e2-standard-4", min_size = 2, max_size = 6 }
    production  = { instance_type = "e2-standard-4", min_size = 3, max_size = 12 }
  }
  validation {
    condition     = alltrue([for size in values(var.node_pool_sizes) : size.min_size >= 0 && size.min_size <= size.max_size])
    error_message = "node_pool_sizes: every min_size must be at least 0 and at most its max_size."
  }
  validation {
    condition     = alltrue([for environment in ["development", "staging", "production"] : contains(keys(var.node_pool_sizes), environment)])
    error_message = "node_pool_sizes must give a size for each of development, staging and production."
  }
}

variable "extra_node_pools" {
  description = "Node pools beside `system`, by name (lowercase letters, digits and hyphens), e.g. a batch pool with a label its workloads select."
  type = map(object({
    instance_type = string
    min_size      = number
    max_size      = number
    labels        = optional(map(string))
  }))
  default = {}
  validation {
    condition     = !contains(keys(var.extra_node_pools), "system")
    error_message = "extra_node_pools may not be named system: that is the module's own pool."
  }
}

variable "tags" {
  description = "Tags beside team, cost-center and environment, which the module sets and these cannot override."
  type        = map(string)
  default     = {}
}

variable "timeouts" {
  description = "How long an apply waits for the cluster to be ready (create, update) and gone (delete), e.g. \"45m\"; the provider's defaults when unset."
  type = object({
    create = optional(string)
    update = optional(string)
    delete = optional(string)
  })
  default = null
}
