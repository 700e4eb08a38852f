#!/usr/bin/env bash
# gofmt, go vet and the pinned golangci-lint over the provider module.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt needed:" >&2
  echo "$unformatted" >&2
  exit 1
fi
go vet ./...
go -C "$repo/tools/golangci-lint" build -o "$repo/bin/golangci-lint" github.com/golangci/golangci-lint/v2/cmd/golangci-lint
"$repo/bin/golangci-lint" run ./...
