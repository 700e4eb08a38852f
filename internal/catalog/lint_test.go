package catalog

import (
	"fmt"
	"path/filepath"
	"testing"

	"helm.sh/helm/v4/pkg/action"
)

// TestChartsLintClean holds the catalog's charts to `helm lint --strict`: no error and no warning, with
// the least values each chart's schema requires.
func TestChartsLintClean(t *testing.T) {
	image := map[string]any{"repository": "ghcr.io/acme/api", "tag": "2.3.1"}
	cases := map[string]struct {
		reason string
		values map[string]any
	}{
		"web-service":            {reason: "The web service needs only its image.", values: map[string]any{"image": image}},
		"worker":                 {reason: "The worker needs only its image.", values: map[string]any{"image": image}},
		"cronjob":                {reason: "The job needs its image and schedule.", values: map[string]any{"image": image, "schedule": "@daily"}},
		"team-namespace":         {reason: "The namespace needs only its team.", values: map[string]any{"team": "payments"}},
		"platform-configuration": {reason: "The platform's packages need nothing: their defaults are the platform's.", values: map[string]any{}},
	}
	if len(cases) != len(Names()) {
		t.Fatalf("the lint cases cover %d charts; the catalog has %v", len(cases), Names())
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			lint := action.NewLint()
			lint.Strict = true
			lint.Namespace = "lint"
			result := lint.Run([]string{filepath.Join("..", "..", "charts", name)}, tc.values)
			if result.TotalChartsLinted != 1 {
				t.Fatalf("%s\nlinted %d charts, want 1: %v", tc.reason, result.TotalChartsLinted, result.Errors)
			}
			if action.HasWarningsOrErrors(result) || len(result.Errors) > 0 {
				var messages []string
				for _, m := range result.Messages {
					messages = append(messages, fmt.Sprint(m))
				}
				t.Errorf("%s\nhelm lint --strict: errors %v, messages %v", tc.reason, result.Errors, messages)
			}
		})
	}
}
