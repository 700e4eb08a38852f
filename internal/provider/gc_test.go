package provider

import (
	"runtime/debug"
	"testing"
)

func TestTuneGarbageCollector(t *testing.T) {
	cases := []struct {
		reason      string
		env         map[string]string
		wantPercent int
		wantLimit   int64
	}{
		{reason: "without GOGC or GOMEMLIMIT the provider's settings apply", env: map[string]string{"GOGC": "", "GOMEMLIMIT": ""}, wantPercent: gcPercent, wantLimit: gcMemoryLimit},
		{reason: "GOGC set by the user is left alone", env: map[string]string{"GOGC": "150", "GOMEMLIMIT": ""}, wantPercent: 100, wantLimit: 1 << 40},
		{reason: "GOMEMLIMIT set by the user is left alone", env: map[string]string{"GOGC": "", "GOMEMLIMIT": "2GiB"}, wantPercent: 100, wantLimit: 1 << 40},
	}
	for _, tc := range cases {
		t.Run(tc.reason, func(t *testing.T) {
			for name, value := range tc.env {
				t.Setenv(name, value)
			}
			// The runtime reads GOGC and GOMEMLIMIT at start only: the process's settings are set here to
			// stand for what they asked for, and restored after.
			percent, limit := debug.SetGCPercent(100), debug.SetMemoryLimit(1<<40)
			t.Cleanup(func() { debug.SetGCPercent(percent); debug.SetMemoryLimit(limit) })

			TuneGarbageCollector()

			gotPercent, gotLimit := debug.SetGCPercent(100), debug.SetMemoryLimit(1<<40)
			if gotPercent != tc.wantPercent || gotLimit != tc.wantLimit {
				t.Errorf("%s: GC percent %d, memory limit %d; want %d, %d", tc.reason, gotPercent, gotLimit, tc.wantPercent, tc.wantLimit)
			}
		})
	}
}
