package provider

import (
	"os"
	"runtime/debug"
)

// Collector settings of a provider process, unless GOGC or GOMEMLIMIT ask for others.
const (
	// gcPercent lets the heap grow to five times what is live before a collection. A plan's process
	// lives for one plan and allocates mostly short-lived values (the framework's per-attribute walks,
	// decoded list responses): at Go's default of 100 the collector took a quarter of its CPU in a plan of
	// 200 releases (BenchmarkPlan's profiles). At 400 that plan's provider CPU fell from 1.51 s to 1.20 s
	// and its peak RSS rose from 183 MiB to 290 MiB; at 200, to 1.39 s and 227 MiB.
	gcPercent = 400
	// gcMemoryLimit makes the collector work harder again as the heap nears it, so that the larger
	// growth cannot take a large configuration's process far beyond what it needs.
	gcMemoryLimit = 1 << 30
)

// TuneGarbageCollector applies the provider's collector settings to this process.
func TuneGarbageCollector() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetGCPercent(gcPercent)
	debug.SetMemoryLimit(gcMemoryLimit)
}
