package kube

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseKubeconfig(t *testing.T) {
	const base = `
apiVersion: v1
kind: Config
current-context: admin
clusters:
- name: c
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority-data: Q0EtUEVN
contexts:
- name: admin
  context: {cluster: c, user: u}
users:
- name: u
  user:
    token: secret-token
`
	cases := map[string]struct {
		reason  string
		raw     string
		want    KubeconfigSummary
		wantErr string
	}{
		"TokenUser": {
			reason: "The current context's server, CA and token are returned.",
			raw:    base,
			want:   KubeconfigSummary{Endpoint: "https://127.0.0.1:6443", CACertificatePEM: "CA-PEM", Token: "secret-token"},
		},
		"NoCurrentContext": {
			reason:  "Without a current context nothing says which cluster is meant.",
			raw:     strings.Replace(base, "current-context: admin", "", 1),
			wantErr: "no current-context",
		},
		"UndefinedContext": {
			reason:  "A current context that is not defined is refused.",
			raw:     strings.Replace(base, "current-context: admin", "current-context: other", 1),
			wantErr: `current-context "other" is not defined`,
		},
		"InsecureSkipVerify": {
			reason:  "The platform never stores a kubeconfig that skips TLS verification.",
			raw:     strings.Replace(base, "certificate-authority-data: Q0EtUEVN", "insecure-skip-tls-verify: true", 1),
			wantErr: "skips TLS verification",
		},
		"FileReference": {
			reason:  "A kubeconfig that points at local files does not work once stored in Vault.",
			raw:     strings.Replace(base, "certificate-authority-data: Q0EtUEVN", "certificate-authority: /etc/ca.crt", 1),
			wantErr: "embed it as certificate-authority-data",
		},
		"NotYAML": {
			reason:  "Garbage is not a kubeconfig.",
			raw:     "{{{",
			wantErr: "not a kubeconfig",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := ParseKubeconfig([]byte(tc.raw))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("%s\nParseKubeconfig(...): want error containing %q, got %v", tc.reason, tc.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s\nParseKubeconfig(...): %v", tc.reason, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nParseKubeconfig(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
