variable "cluster" {
  description = "Name of the platform cluster (idp_cluster) the job runs on."
  type        = string
}

variable "namespace" {
  description = "Namespace of the job; created when missing."
  type        = string
}

variable "name" {
  description = "Name of the job: the release and every object of it."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,51}[a-z0-9])?$", var.name))
    error_message = "name must be a DNS-1123 label of at most 53 characters."
  }
}

variable "image" {
  description = "Container image of the job. Tags like latest are refused: deploys must be reproducible."
  type = object({
    repository = string
    tag        = string
  })
  validation {
    condition     = var.image.tag != "" && var.image.tag != "latest"
    error_message = "image.tag must name a version, not be empty or latest."
  }
}

variable "schedule" {
  description = "When the job runs, in cron syntax (five fields) or a macro such as @hourly."
  type        = string
  validation {
    condition     = can(regex("^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|(\\S+\\s+){4}\\S+)$", var.schedule))
    error_message = "schedule must be five cron fields or a macro such as @daily."
  }
}

variable "time_zone" {
  description = "Time zone of the schedule."
  type        = string
  default     = "Etc/UTC"
}

variable "concurrency_policy" {
  description = "What happens when a run is due while the last still runs: Allow, Forbid or Replace."
  type        = string
  default     = "Forbid"
  validation {
    condition     = contains(["Allow", "Forbid", "Replace"], var.concurrency_policy)
    error_message = "concurrency_policy must be Allow, Forbid or Replace."
  }
}

variable "suspend" {
  description = "Suspend the schedule (runs already started continue)."
  type        = bool
  default     = false
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

variable "chart_version" {
  description = "Version of the catalog's cronjob chart."
  type        = string
  default     = "1.0.0"
}
