package helm

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/google/go-cmp/cmp"
	"helm.sh/helm/v4/pkg/chart/common"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	"helm.sh/helm/v4/pkg/provenance"
	repo "helm.sh/helm/v4/pkg/repo/v1"
	"sigs.k8s.io/yaml"
)

func TestValidOCIReference(t *testing.T) {
	cases := map[string]struct {
		reason string
		ref    string
		valid  bool
	}{
		"HostAndChart":  {reason: "A chart at the root of a registry.", ref: "oci://ghcr.io/web-service", valid: true},
		"PortAndPath":   {reason: "A registry with a port and a nested path.", ref: "oci://127.0.0.1:5000/charts/web-service", valid: true},
		"NoScheme":      {reason: "The oci:// scheme says which kind of source this is.", ref: "ghcr.io/charts/web-service"},
		"Tag":           {reason: "The version is chart.version, not a tag.", ref: "oci://ghcr.io/charts/web-service:1.0.0"},
		"Digest":        {reason: "A manifest digest is not the archive digest chart.digest pins.", ref: "oci://ghcr.io/charts/web-service@sha256:00"},
		"NoChart":       {reason: "A registry alone names no chart.", ref: "oci://ghcr.io"},
		"TrailingSlash": {reason: "A path ending in / names no chart.", ref: "oci://ghcr.io/charts/"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := ValidOCIReference(tc.ref)
			if diff := cmp.Diff(tc.valid, err == nil); diff != "" {
				t.Errorf("%s\nValidOCIReference(%q) = %v; valid (-want +got):\n%s", tc.reason, tc.ref, err, diff)
			}
		})
	}
}

func TestIsLoopback(t *testing.T) {
	cases := map[string]struct {
		reason string
		host   string
		want   bool
	}{
		"IPv4":      {reason: "127.0.0.0/8 is loopback.", host: "127.0.0.1:5000", want: true},
		"IPv6":      {reason: "::1 is loopback.", host: "[::1]:5000", want: true},
		"Localhost": {reason: "localhost resolves to loopback.", host: "localhost", want: true},
		"Public":    {reason: "Any other host must use TLS.", host: "ghcr.io"},
		"LookAlike": {reason: "A name that starts like loopback is not.", host: "127.0.0.1.example.com:443"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, isLoopback(tc.host)); diff != "" {
				t.Errorf("%s\nisLoopback(%q) (-want +got):\n%s", tc.reason, tc.host, diff)
			}
		})
	}
}

// signedRepository serves a chart repository with one chart, web-0.1.0, and the provenance file signer
// made for it (none when signer is nil).
func signedRepository(t *testing.T, signer *openpgp.Entity, tamper bool) string {
	t.Helper()
	url, _ := countedRepository(t, signer, tamper)
	return url
}

// countedRepository is signedRepository that also counts the archive's downloads.
func countedRepository(t *testing.T, signer *openpgp.Entity, tamper bool) (string, *atomic.Int64) {
	t.Helper()
	ch := &chart.Chart{
		Metadata:  &chart.Metadata{APIVersion: "v2", Name: "web", Version: "0.1.0"},
		Templates: []*common.File{{Name: "templates/configmap.yaml", Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n")}},
	}
	archivePath, err := chartutil.Save(ch, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	archive, err := os.ReadFile(archivePath)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	downloads := &atomic.Int64{}
	mux.HandleFunc("/charts/web-0.1.0.tgz", func(w http.ResponseWriter, _ *http.Request) {
		downloads.Add(1)
		_, _ = w.Write(archive)
	})
	if signer != nil {
		metadata, err := yaml.Marshal(ch.Metadata)
		if err != nil {
			t.Fatal(err)
		}
		signed := archive
		if tamper {
			signed = append([]byte("other"), archive...)
		}
		prov, err := (&provenance.Signatory{Entity: signer}).ClearSign(signed, "web-0.1.0.tgz", metadata)
		if err != nil {
			t.Fatal(err)
		}
		mux.HandleFunc("/charts/web-0.1.0.tgz.prov", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(prov)) })
	}
	index := repo.NewIndexFile()
	index.Entries["web"] = repo.ChartVersions{{Metadata: ch.Metadata, URLs: []string{"charts/web-0.1.0.tgz"}}}
	raw, err := yaml.Marshal(index)
	if err != nil {
		t.Fatal(err)
	}
	mux.HandleFunc("/index.yaml", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(raw) })
	server := httptest.NewServer(mux)
	t.Cleanup(server.Close)
	return server.URL, downloads
}

// keyringOf writes the public key of entity as a binary keyring and loads it.
func keyringOf(t *testing.T, entity *openpgp.Entity) *provenance.Signatory {
	t.Helper()
	file := filepath.Join(t.TempDir(), "pubring.gpg")
	var buf bytes.Buffer
	if err := entity.Serialize(&buf); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	keyring, err := LoadKeyring(file)
	if err != nil {
		t.Fatal(err)
	}
	return keyring
}

func TestFetchVerifiesProvenance(t *testing.T) {
	trusted, err := openpgp.NewEntity("Platform charts", "", "charts@idp.dev", nil)
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := openpgp.NewEntity("Someone else", "", "someone@example.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		reason  string
		signer  *openpgp.Entity
		tamper  bool
		keyring bool
		wantErr string
	}{
		"SignedByTrustedKey": {reason: "A chart signed by a key of the keyring loads.", signer: trusted, keyring: true},
		"Unsigned":           {reason: "With a keyring, a chart without provenance is refused.", keyring: true, wantErr: "provenance file"},
		"SignedByStranger":   {reason: "A signature by a key outside the keyring is refused.", signer: stranger, keyring: true, wantErr: "failed provenance verification"},
		"ChecksumMismatch":   {reason: "A valid signature over another archive is refused.", signer: trusted, tamper: true, keyring: true, wantErr: "sha256 sum does not match"},
		"NoKeyring":          {reason: "Without a keyring, provenance is not asked for.", keyring: false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			fetcher := &Fetcher{}
			if tc.keyring {
				fetcher.Keyring = keyringOf(t, trusted)
			}
			url := signedRepository(t, tc.signer, tc.tamper)
			fetched, err := fetcher.Fetch(context.Background(), RemoteChart{Repository: url, Name: "web", Version: "0.1.0"})
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if (tc.wantErr == "") != (gotErr == "") || !strings.Contains(gotErr, tc.wantErr) {
				t.Fatalf("%s\nFetch error = %q, want one containing %q", tc.reason, gotErr, tc.wantErr)
			}
			if err == nil && fetched.Chart.Metadata.Name != "web" {
				t.Errorf("%s\nFetch loaded chart %q, want web", tc.reason, fetched.Chart.Metadata.Name)
			}
		})
	}
}

func TestFetchDownloadsOnceAndLoadsFreshCharts(t *testing.T) {
	url, downloads := countedRepository(t, nil, false)
	fetcher := &Fetcher{}
	chart := RemoteChart{Repository: url, Name: "web", Version: "0.1.0"}
	first, err := fetcher.Fetch(context.Background(), chart)
	if err != nil {
		t.Fatal(err)
	}
	second, err := fetcher.Fetch(context.Background(), chart)
	if err != nil {
		t.Fatal(err)
	}
	if got := downloads.Load(); got != 1 {
		t.Errorf("two fetches of one chart downloaded it %d times, want 1", got)
	}
	if first.Chart == second.Chart {
		t.Error("two fetches returned the same chart object; Helm changes the charts it installs, so each needs its own")
	}
	if first.Digest != second.Digest {
		t.Errorf("digests differ: %s, %s", first.Digest, second.Digest)
	}
	pinned := chart
	pinned.Digest = "sha256:" + strings.Repeat("0", 64)
	if _, err := fetcher.Fetch(context.Background(), pinned); err == nil || !strings.Contains(err.Error(), "not the pinned digest") {
		t.Errorf("a wrong pinned digest on a cached chart: error %v", err)
	}
}
