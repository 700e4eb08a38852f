variable "name" {
  description = "Name of the team: its Vault policy and AppRole role are `idp-team-<name>`, its Keycloak group is `team-<name>`, its namespace is named after it by default, and the namespace's objects carry it in the platform.idp.dev/team label."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,52}[a-z0-9])?$", var.name))
    error_message = "name must be a DNS-1123 label of at most 54 characters (idp-team-<name> names its Vault policy)."
  }
}

variable "clusters" {
  description = "Names of the platform clusters (idp_cluster) the team gets its namespace and access on."
  type        = list(string)
  validation {
    condition     = length(var.clusters) > 0 && alltrue([for cluster in var.clusters : cluster != ""])
    error_message = "clusters must name at least one cluster, and no name may be empty."
  }
  validation {
    condition     = length(distinct(var.clusters)) == length(var.clusters)
    error_message = "clusters must not name a cluster twice."
  }
}

variable "members" {
  description = "Keycloak usernames the module adds to the team's group. Only these are managed: members added to the group otherwise are left alone, and a username removed from the list leaves the group unless another access of the group still lists it."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "role" {
  description = "ClusterRole the team's group is bound to in its namespace: view, edit, admin, or a custom ClusterRole of the clusters."
  type        = string
  default     = "edit"
  validation {
    condition     = var.role != ""
    error_message = "role must name a ClusterRole."
  }
}

variable "namespace" {
  description = "Namespace of the team on each cluster; the team's name when null. Created when missing, and left in place on destroy."
  type        = string
  default     = null
  validation {
    condition     = var.namespace == null || can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.namespace))
    error_message = "namespace must be a DNS-1123 label of at most 63 characters."
  }
}

variable "group" {
  description = "Keycloak group of the team; `team-<name>` when null."
  type        = string
  default     = null
  validation {
    condition     = var.group == null || try(length(var.group) > 0, false)
    error_message = "group must not be empty; leave it null for team-<name>."
  }
}

variable "owned_clusters" {
  description = "Clusters the team owns in Vault: names, or a prefix followed by *. The team's runs may read and write their kubeconfigs (an admin kubeconfig is full control of a cluster, so list only the team's own), and read its credentials under `credentials/<name>/`; nothing else. `<name>-*` when null."
  type        = list(string)
  default     = null
}

variable "token_ttl" {
  description = "How long a Vault login of the team's AppRole lasts, from 1m to 24h."
  type        = string
  default     = "1h"
  nullable    = false
}

variable "quota" {
  description = "The namespace's ResourceQuota: total CPU and memory requests and limits (Kubernetes quantities) and pods. Containers that set no requests or limits get the chart's defaults (100m/128Mi requested, 500m/512Mi limits)."
  type = object({
    cpu = optional(object({
      requests = optional(string, "4")
      limits   = optional(string, "8")
    }), {})
    memory = optional(object({
      requests = optional(string, "8Gi")
      limits   = optional(string, "16Gi")
    }), {})
    pods = optional(number, 20)
  })
  default  = {}
  nullable = false
  validation {
    condition = alltrue([
      for quantity in [var.quota.cpu.requests, var.quota.cpu.limits, var.quota.memory.requests, var.quota.memory.limits] :
      can(regex("^[0-9]+(\\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$", quantity))
    ])
    error_message = "quota's cpu and memory must be Kubernetes quantities, such as 500m, 4 or 16Gi."
  }
  validation {
    condition     = var.quota.pods >= 0 && var.quota.pods <= 10000 && floor(var.quota.pods) == var.quota.pods
    error_message = "quota.pods must be a whole number from 0 to 10000."
  }
}

variable "expires_at" {
  description = "When the team's access ends (RFC 3339, e.g. 2026-12-31T18:00:00Z): the platform then removes its bindings. The namespace stays. No end when null."
  type        = string
  default     = null
  validation {
    condition     = var.expires_at == null || can(timecmp(var.expires_at, "2000-01-01T00:00:00Z"))
    error_message = "expires_at must be an RFC 3339 time, such as 2026-12-31T18:00:00Z."
  }
}

variable "chart_version" {
  description = "Version of the catalog's team-namespace chart."
  type        = string
  default     = "1.0.0"
}
