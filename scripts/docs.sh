#!/usr/bin/env bash
# Generates docs/ with tfplugindocs from the provider's schema and examples/. The schema comes from the
# provider just built in bin/, read by the pinned OpenTofu (Terraform 1.5.7 predates ephemeral resources); neither tool is downloaded.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat > "$work/cli.tfrc" <<CONFIG
provider_installation {
  dev_overrides {
    "registry.opentofu.org/idp-platform/idp" = "$repo/bin"
  }
  direct {}
}
CONFIG
cat > "$work/main.tf" <<'CONFIG'
terraform {
  required_providers {
    idp = { source = "idp-platform/idp" }
  }
}
CONFIG
tofu=$(cd "$repo" && go run ./internal/sandbox/cmd/idp-sandbox path tofu)
(cd "$work" && TF_CLI_CONFIG_FILE="$work/cli.tfrc" "$tofu" -chdir="$work" providers schema -json) > "$work/schema.json"

# tfplugindocs looks the provider up by its short name or under the hashicorp namespace.
sed -i 's#"registry.opentofu.org/idp-platform/idp":#"idp":#' "$work/schema.json"

go -C "$repo/tools/tfplugindocs" tool tfplugindocs generate \
  --provider-dir "$repo" \
  --provider-name idp \
  --providers-schema "$work/schema.json"
