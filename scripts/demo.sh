#!/usr/bin/env bash
# Runs examples/quickstart with OpenTofu against the sandbox, installing the provider just built in bin/
# from a filesystem mirror so that `tofu init` works as it would with a released provider.
set -euo pipefail
sandbox_dir=$1
repo=$(cd "$(dirname "$0")/.." && pwd)
source "$sandbox_dir/env"

version=0.1.0
mirror="$sandbox_dir/plugins"
platform_dir="$mirror/registry.opentofu.org/idp-platform/idp/$version/$(go env GOOS)_$(go env GOARCH)"
rm -rf "$mirror"
mkdir -p "$platform_dir"
cp "$repo/bin/terraform-provider-idp" "$platform_dir/terraform-provider-idp_v$version"

export TF_CLI_CONFIG_FILE="$sandbox_dir/demo.tfrc"
cat > "$TF_CLI_CONFIG_FILE" <<CONFIG
provider_installation {
  filesystem_mirror {
    path    = "$mirror"
    include = ["registry.opentofu.org/idp-platform/idp"]
  }
}
CONFIG

export TF_VAR_management_kubeconfig="$IDP_MANAGEMENT_CLUSTER_KUBECONFIG_PATH"
export TF_VAR_workload_kubeconfig="$IDP_SANDBOX_WORKLOAD_KUBECONFIG"
# The state belongs to this sandbox, not to the checkout: a new sandbox starts from an empty state, and
# the example directory stays clean.
workdir="$sandbox_dir/quickstart"
mkdir -p "$workdir"
cp "$repo"/examples/quickstart/*.tf "$workdir/"
cd "$workdir"
# The provider is rebuilt on every run, so the last lock file's checksum would not match it.
rm -f .terraform.lock.hcl
"$IDP_SANDBOX_TOFU" init -input=false
"$IDP_SANDBOX_TOFU" apply -input=false -auto-approve
echo
echo "The sandbox keeps running: 'make sandbox-env' prints its environment, 'make sandbox-down' stops it."
echo "The quickstart's state is in $workdir."
