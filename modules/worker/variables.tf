variable "cluster" {
  description = "Name of the platform cluster (idp_cluster) the worker runs on."
  type        = string
}

variable "namespace" {
  description = "Namespace of the worker; created when missing."
  type        = string
}

variable "name" {
  description = "Name of the worker: the release and every object of it."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,51}[a-z0-9])?$", var.name))
    error_message = "name must be a DNS-1123 label of at most 53 characters."
  }
}

variable "image" {
  description = "Container image of the worker. Tags like latest are refused: deploys must be reproducible."
  type = object({
    repository = string
    tag        = string
  })
  validation {
    condition     = var.image.tag != "" && var.image.tag != "latest"
    error_message = "image.tag must name a version, not be empty or latest."
  }
}

variable "replicas" {
  description = "Replicas when autoscaling is off."
  type        = number
  default     = 1
  validation {
    condition     = var.replicas >= 0 && var.replicas <= 50 && floor(var.replicas) == var.replicas
    error_message = "replicas must be a whole number from 0 to 50."
  }
}

variable "args" {
  description = "Arguments of the container."
  type        = list(string)
  default     = []
}

variable "env" {
  description = "Environment variables of the container (not for secrets)."
  type        = map(string)
  default     = {}
}

variable "autoscaling" {
  description = "CPU-based autoscaling between min and max replicas; off when null."
  type = object({
    min_replicas = number
    max_replicas = number
  })
  default = null
  validation {
    condition     = var.autoscaling == null || try(var.autoscaling.min_replicas >= 1 && var.autoscaling.max_replicas >= var.autoscaling.min_replicas, false)
    error_message = "autoscaling needs 1 <= min_replicas <= max_replicas."
  }
}

variable "chart_version" {
  description = "Version of the catalog's worker chart."
  type        = string
  default     = "1.0.0"
}
