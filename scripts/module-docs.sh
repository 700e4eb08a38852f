#!/usr/bin/env bash
# Writes each catalog module's README usage, inputs and outputs with the pinned terraform-docs
# (tools/terraform-docs), configured by modules/.terraform-docs.yml.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$repo/bin"
go -C "$repo/tools/terraform-docs" build -o "$repo/bin/terraform-docs" github.com/terraform-docs/terraform-docs
for readme in "$repo"/modules/*/README.md; do
  module=$(dirname "$readme")
  grep -q '<!-- BEGIN_TF_DOCS -->' "$readme" || { echo "$readme has no terraform-docs markers" >&2; exit 1; }
  "$repo/bin/terraform-docs" --config "$repo/modules/.terraform-docs.yml" "$module" >/dev/null
done
