package helm

import (
	"encoding/hex"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"helm.sh/helm/v4/pkg/chart/common"
	chart "helm.sh/helm/v4/pkg/chart/v2"
)

func TestStoredSize(t *testing.T) {
	// noise is text gzip cannot shrink much below half: hex of pseudo-random bytes, the same every run.
	noise := func(bytes int) string {
		random := rand.New(rand.NewPCG(1, 2))
		raw := make([]byte, bytes/2)
		for i := range raw {
			raw[i] = byte(random.UintN(256))
		}
		return hex.EncodeToString(raw)
	}
	withFile := func(data string) *chart.Chart {
		ch := configMapChart()
		ch.Files = append(ch.Files, &common.File{Name: "files/blob.txt", Data: []byte(data)})
		return ch
	}
	cases := map[string]struct {
		reason   string
		chart    *chart.Chart
		values   map[string]any
		wantOver bool
	}{
		"Small": {
			reason: "A chart and values of everyday size are far below the limit.",
			chart:  configMapChart(),
			values: map[string]any{"greeting": "hi", "image": map[string]any{"repository": "ghcr.io/acme/api", "tag": "2.3.1"}},
		},
		"LargeButCompressible": {
			reason: "Helm compresses the release: 4 MiB of repetitive values fit.",
			chart:  configMapChart(),
			values: map[string]any{"greeting": strings.Repeat("hello world ", 4<<20/12)},
		},
		"LargeValues": {
			reason:   "3 MiB of values that do not compress cannot be stored.",
			chart:    configMapChart(),
			values:   map[string]any{"greeting": noise(3 << 20)},
			wantOver: true,
		},
		"LargeChartFiles": {
			reason:   "The chart's files are stored with the release and count too.",
			chart:    withFile(noise(3 << 20)),
			values:   map[string]any{"greeting": "hi"},
			wantOver: true,
		},
		"UnderTheLimitAfterEncoding": {
			reason: "1.2 MiB of hex gzip to about 0.6 MiB, about 0.8 MiB in base64: stored.",
			chart:  configMapChart(),
			values: map[string]any{"greeting": noise(1200 << 10)},
		},
		"OverTheLimitAfterEncoding": {
			reason:   "1.6 MiB of hex gzip to about 0.8 MiB, which base64 makes more than 1 MiB: refused.",
			chart:    configMapChart(),
			values:   map[string]any{"greeting": noise(1600 << 10)},
			wantOver: true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			size, err := StoredSize(tc.chart, tc.values)
			if err != nil {
				t.Fatal(err)
			}
			if size <= 0 {
				t.Fatalf("StoredSize = %d, want a positive size", size)
			}
			if diff := cmp.Diff(tc.wantOver, size > MaxStoredReleaseBytes); diff != "" {
				t.Errorf("%s\nStoredSize = %d bytes; over %d: -want, +got:\n%s", tc.reason, size, MaxStoredReleaseBytes, diff)
			}
			reported, tooLarge, err := TooLargeToStore(tc.chart, tc.values)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantOver, tooLarge); diff != "" {
				t.Errorf("%s\nTooLargeToStore: -want, +got:\n%s", tc.reason, diff)
			}
			if tooLarge && reported != size {
				t.Errorf("TooLargeToStore reported %d bytes, StoredSize says %d", reported, size)
			}
		})
	}
}
