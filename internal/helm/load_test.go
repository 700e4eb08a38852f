package helm

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeArchive writes a gzipped tar of the given entries.
func writeArchive(t *testing.T, path string, entries map[string][]byte) {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, data := range entries {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadChart(t *testing.T) {
	chartYAML := []byte("apiVersion: v2\nname: demo\nversion: 0.1.0\n")
	incompressible := make([]byte, MaxChartArchiveBytes+1024)
	if _, err := rand.Read(incompressible); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		reason  string
		entries map[string][]byte
		wantErr string
	}{
		"Valid": {
			reason:  "A plain chart archive loads.",
			entries: map[string][]byte{"demo/Chart.yaml": chartYAML},
		},
		"ParentTraversal": {
			reason:  "An entry that climbs out of the chart is refused.",
			entries: map[string][]byte{"demo/Chart.yaml": chartYAML, "demo/../../etc/evil": []byte("x")},
			wantErr: "illegally",
		},
		"DecompressionBomb": {
			reason:  "An archive that expands past the limit is refused while reading.",
			entries: map[string][]byte{"demo/Chart.yaml": chartYAML, "demo/templates/big.yaml": make([]byte, MaxChartDecompressedBytes+1)},
			wantErr: "decompressed",
		},
		"OversizedArchive": {
			reason:  "An archive larger than the limit is refused before it is read.",
			entries: map[string][]byte{"demo/Chart.yaml": chartYAML, "demo/files/blob": incompressible},
			wantErr: "more than the",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "demo-0.1.0.tgz")
			writeArchive(t, path, tc.entries)
			ch, err := LoadChart(path)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("%s\nLoadChart: %v", tc.reason, err)
				}
				if ch.Metadata.Name != "demo" {
					t.Errorf("%s\nLoadChart: chart %q, want demo", tc.reason, ch.Metadata.Name)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s\nLoadChart: want an error containing %q, got %v", tc.reason, tc.wantErr, err)
			}
		})
	}
}
