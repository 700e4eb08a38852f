package provider

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestShortDuration(t *testing.T) {
	cases := map[string]struct {
		in   time.Duration
		want string
	}{
		"Hours":        {in: time.Hour, want: "1h"},
		"Minutes":      {in: 30 * time.Minute, want: "30m"},
		"HoursMinutes": {in: 90 * time.Minute, want: "1h30m"},
		"Seconds":      {in: 90 * time.Second, want: "1m30s"},
		"Day":          {in: 24 * time.Hour, want: "24h"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, shortDuration(tc.in)); diff != "" {
				t.Errorf("shortDuration(%v) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}
