// Package charts holds the platform's standardized Helm charts, embedded so that the provider can
// install them without a repository: `chart = { catalog = "web-service" }`.
package charts

import "embed"

// FS holds one directory per chart.
//
//go:embed all:web-service all:worker all:cronjob all:team-namespace all:platform-configuration
var FS embed.FS
