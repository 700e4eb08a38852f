# Guardrail settings of the shipped policies: every number and name they use, in one place.
#
# A deployment changes them without editing this file with a data document under idp_policy
# (conftest --data settings.json, or a JSON/YAML file among the provider's policy paths), merged key by
# key over these defaults (lists are replaced whole), e.g.
#   {"idp_policy": {"platform_team": "sre", "max_pool_nodes": {"production": 80}}}
package lib.idp

default_settings := {
	# The team (idp.team) that may grant cluster-admin.
	"platform_team": "platform",
	# Where a cluster's environment comes from when idp.cluster.environment is empty: this label of the
	# cluster (idp.cluster.labels), then, for an idp_cluster, its tag "environment".
	"environment_label": "platform.idp.dev/environment",
	# Environments that get the production rules (catalog charts only, pinned add-ons).
	"production_environments": ["production"],
	# What the platform offers cloud clusters (idp_cluster with cloud aws, azure or gcp). The provider
	# itself checks these at plan, with or without a policy block, on the attribute that is off:
	# regions per cloud, the Kubernetes minor versions it creates and upgrades to, and the largest
	# max_size of a node pool on any environment. Add a region or version here (in idp_policy) only
	# once the platform's compositions support it.
	"regions": {
		"aws": [
			"us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1",
			"eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1",
			"ap-south-1", "ap-northeast-1", "ap-southeast-1", "ap-southeast-2",
		],
		"azure": [
			"eastus", "eastus2", "centralus", "westus2", "westus3", "canadacentral",
			"northeurope", "westeurope", "uksouth", "francecentral", "germanywestcentral", "swedencentral",
			"japaneast", "southeastasia", "australiaeast",
		],
		"gcp": [
			"us-central1", "us-east1", "us-east4", "us-west1", "northamerica-northeast1", "southamerica-east1",
			"europe-west1", "europe-west2", "europe-west3", "europe-west4", "europe-north1",
			"asia-east1", "asia-northeast1", "asia-southeast1", "australia-southeast1",
		],
	},
	"kubernetes_versions": ["1.30", "1.31", "1.32", "1.33", "1.34"],
	"max_pool_size": 100,
	# Machine types node pools may use, per cloud of idp_cluster.
	"instance_types": {
		"aws": [
			"m6i.large", "m6i.xlarge", "m6i.2xlarge", "m6i.4xlarge",
			"m7i.large", "m7i.xlarge", "m7i.2xlarge", "m7i.4xlarge",
			"c6i.large", "c6i.xlarge", "c6i.2xlarge", "c6i.4xlarge",
			"r6i.large", "r6i.xlarge", "r6i.2xlarge",
		],
		"azure": [
			"Standard_D2s_v5", "Standard_D4s_v5", "Standard_D8s_v5", "Standard_D16s_v5",
			"Standard_E4s_v5", "Standard_E8s_v5",
			"Standard_F4s_v2", "Standard_F8s_v2", "Standard_F16s_v2",
		],
		"gcp": [
			"e2-standard-2", "e2-standard-4", "e2-standard-8", "e2-standard-16",
			"n2-standard-4", "n2-standard-8", "n2-standard-16",
			"c2-standard-8", "c2-standard-16",
		],
	},
	# Most nodes one node pool may grow to (max_size), per environment; "default" for the others and
	# for clusters of no known environment.
	"max_pool_nodes": {"production": 50, "staging": 20, "default": 10},
	# Most nodes all node pools of one cluster may grow to together (the sum of max_size).
	"max_cluster_nodes": {"production": 200, "staging": 60, "default": 30},
	# Tags every cloud cluster carries, for cost attribution and ownership.
	"required_tags": ["team", "cost-center"],
	# "warn" (default) or "deny": whether missing required tags only warn or block the plan.
	"required_tags_enforcement": "warn",
	# Chart sources idp_app may use in production besides the catalog: chart repository URLs
	# (chart.repository, compared without a trailing slash) and OCI prefixes (chart.oci starts with it
	# followed by "/"), e.g. "https://charts.example.com" or "oci://registry.example.com/charts".
	"production_chart_sources": [],
	# Rules switched off for every change, by name without deny_/violation_ (conftest exceptions),
	# e.g. ["pool_size"]. Exceptions for particular changes go in a policy of their own (README.md).
	"disabled_rules": [],
}

settings := object.union(default_settings, overrides)

# data.idp_policy is named, not looked up in data as a whole, which would depend on every rule.
default overrides := {}

overrides := data.idp_policy
