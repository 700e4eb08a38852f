// Package policy is the platform's shipped Rego policy library: guardrails that the provider
// evaluates at plan (internal/policy) and that run unchanged in conftest against `tofu show -json`,
// e.g. `conftest test --policy policy/ plan.json`. See README.md for the input contract.
package policy

import "embed"

// FS holds the library's policies (package main), their helpers and guardrail settings (lib/) and
// their Rego unit tests (*_test.rego, which evaluation skips).
//
//go:embed *.rego lib/*.rego
var FS embed.FS
