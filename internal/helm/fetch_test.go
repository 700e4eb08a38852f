package helm

import (
	"testing"

	"github.com/google/go-cmp/cmp"
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
