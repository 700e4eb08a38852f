package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/idp-platform/terraform-provider-idp/internal/keycloak"
	"github.com/idp-platform/terraform-provider-idp/internal/kube"
	"github.com/idp-platform/terraform-provider-idp/internal/vault"
)

type fakeVault struct{ vaultAPI }

func TestBackendsVault(t *testing.T) {
	cases := map[string]struct {
		reason      string
		configured  bool
		buildErrs   []error // one per build attempt; nil builds a client
		calls       int
		wantSummary []string // per call; "" for success
		wantBuilds  int
	}{
		"NotConfigured": {
			reason:      "A resource that needs Vault without a vault block gets a diagnostic naming the block, and nothing is dialled.",
			calls:       1,
			wantSummary: []string{"The provider's vault block is not configured"},
		},
		"BuiltOnceThenShared": {
			reason:      "The client is built lazily on first use and shared afterwards.",
			configured:  true,
			buildErrs:   []error{nil},
			calls:       3,
			wantSummary: []string{"", "", ""},
			wantBuilds:  1,
		},
		"UnreachableThenRetried": {
			reason:      "A failed connection is not cached: the next use tries again and can succeed.",
			configured:  true,
			buildErrs:   []error{errors.New("dial tcp 127.0.0.1:1: connection refused"), nil},
			calls:       2,
			wantSummary: []string{"Cannot reach Vault", ""},
			wantBuilds:  2,
		},
		"NoAnswer": {
			reason:      "A Vault that did not answer within the request timeout is told apart from one that refused the connection.",
			configured:  true,
			buildErrs:   []error{fmt.Errorf("cannot log in to Vault with token: %w", context.DeadlineExceeded)},
			calls:       1,
			wantSummary: []string{"Vault did not answer"},
			wantBuilds:  1,
		},
		"Rejected": {
			reason:      "Refused credentials are told apart from an unreachable server.",
			configured:  true,
			buildErrs:   []error{fmt.Errorf("%w: token login failed", vault.ErrLoginRejected)},
			calls:       1,
			wantSummary: []string{"Vault rejected the provider's credentials"},
			wantBuilds:  1,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var configs backendConfigs
			if tc.configured {
				configs.vault = &vault.Config{Address: "http://127.0.0.1:1"}
			}
			b := newBackends(configs)
			builds := 0
			b.newVault = func(context.Context, vault.Config) (vaultAPI, error) {
				err := tc.buildErrs[builds]
				builds++
				if err != nil {
					return nil, err
				}
				return fakeVault{}, nil
			}
			var got []string
			for range tc.calls {
				_, diags := b.Vault(context.Background())
				summary := ""
				if diags.HasError() {
					if len(diags) != 1 {
						t.Errorf("%s\nwant exactly one diagnostic, got %d: %v", tc.reason, len(diags), diags)
					}
					summary = diags[0].Summary()
				}
				got = append(got, summary)
			}
			if diff := cmp.Diff(tc.wantSummary, got); diff != "" {
				t.Errorf("%s\nVault() diagnostics: -want, +got:\n%s", tc.reason, diff)
			}
			if builds != tc.wantBuilds {
				t.Errorf("%s\nclient builds: want %d, got %d", tc.reason, tc.wantBuilds, builds)
			}
		})
	}
}

func TestBackendsDiagnostics(t *testing.T) {
	cases := map[string]struct {
		reason  string
		configs backendConfigs
		call    func(*backends) []string
		want    []string
	}{
		"ManagementClusterNotConfigured": {
			reason: "The diagnostic names the missing block.",
			call: func(b *backends) []string {
				_, diags := b.ManagementCluster()
				return summaries(diags)
			},
			want: []string{"The provider's management_cluster block is not configured"},
		},
		"KeycloakNotConfigured": {
			reason: "The diagnostic names the missing block.",
			call: func(b *backends) []string {
				_, diags := b.Keycloak(context.Background())
				return summaries(diags)
			},
			want: []string{"The provider's keycloak block is not configured"},
		},
		"KubeconfigMissing": {
			reason:  "A kubeconfig path that names no file is reported before any connection.",
			configs: backendConfigs{management: &kube.Config{KubeconfigPath: "/nonexistent/kubeconfig"}},
			call: func(b *backends) []string {
				_, diags := b.ManagementCluster()
				return summaries(diags)
			},
			want: []string{"Cannot use the management cluster configuration"},
		},
		"KeycloakRejected": {
			reason:  "A wrong client secret is reported as such.",
			configs: backendConfigs{keycloak: &keycloak.Config{URL: "http://k", Realm: "r"}},
			call: func(b *backends) []string {
				b.newKeycloak = func(context.Context, keycloak.Config) (keycloakAPI, error) {
					return nil, fmt.Errorf("%w: invalid client credentials", keycloak.ErrLoginRejected)
				}
				_, diags := b.Keycloak(context.Background())
				return summaries(diags)
			},
			want: []string{"Keycloak rejected the provider's credentials"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := tc.call(newBackends(tc.configs))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func summaries(diags diag.Diagnostics) []string {
	var out []string
	for _, d := range diags {
		out = append(out, d.Summary())
	}
	return out
}

func TestBackendErrors(t *testing.T) {
	configs := backendConfigs{
		vault:    &vault.Config{Address: "http://vault.test:8200", RequestTimeout: 3 * time.Second},
		keycloak: &keycloak.Config{URL: "http://keycloak.test", RequestTimeout: 4 * time.Second},
	}
	noAnswerFrom := func(backend string) error {
		return fmt.Errorf("cannot list releases: %w", &kube.NoAnswerError{Backend: backend, Host: "https://127.0.0.1:6443", Limit: 5 * time.Second})
	}
	type result struct {
		Summary string
		// Mentions are the parts of the detail that tell the user where and what to check.
		Mentions []string
	}
	cases := map[string]struct {
		reason string
		got    func(*backends) diag.Diagnostic
		want   result
	}{
		"VaultNoAnswer": {
			reason: "A Vault that did not answer is named with its address, the timeout and the setting to raise.",
			got: func(b *backends) diag.Diagnostic {
				return b.vaultError("Cannot read Vault's health", fmt.Errorf("read: %w", context.DeadlineExceeded), "")
			},
			want: result{"Vault did not answer", []string{"http://vault.test:8200", "3s", "vault.request_timeout", "IDP_VAULT_REQUEST_TIMEOUT", "running"}},
		},
		"VaultOtherError": {
			reason: "Any other Vault error keeps its own summary and advice.",
			got: func(b *backends) diag.Diagnostic {
				return b.vaultError("Vault KV mount is not usable", errors.New("mount \"kv\" is kv version 1"), "Set vault.kv_mount.")
			},
			want: result{"Vault KV mount is not usable", []string{"version 1", "Set vault.kv_mount."}},
		},
		"KeycloakNoAnswer": {
			reason: "A Keycloak that did not answer is named with its URL and timeout.",
			got: func(b *backends) diag.Diagnostic {
				return b.keycloakError("Cannot reach Keycloak", fmt.Errorf("cannot log in: %w", keycloak.ErrNoAnswer), "")
			},
			want: result{"Keycloak did not answer", []string{"http://keycloak.test", "4s", "keycloak.request_timeout", "IDP_KEYCLOAK_REQUEST_TIMEOUT"}},
		},
		"ManagementClusterNoAnswer": {
			reason: "The management cluster's address comes from the error, since the configuration may only name a kubeconfig.",
			got: func(b *backends) diag.Diagnostic {
				return b.managementClusterError("Cannot reach the management cluster", noAnswerFrom("management cluster"), "")
			},
			want: result{"The management cluster did not answer", []string{"https://127.0.0.1:6443", "5s", "management_cluster.request_timeout"}},
		},
		"WorkloadClusterNoAnswer": {
			reason: "A workload cluster is named by its platform name; its bound is the management_cluster block's.",
			got: func(b *backends) diag.Diagnostic {
				return b.workloadClusterError("payments", "Cannot read the release", noAnswerFrom("workload cluster"), "")
			},
			want: result{`Workload cluster "payments" did not answer`, []string{"https://127.0.0.1:6443", "5s", "IDP_MANAGEMENT_CLUSTER_REQUEST_TIMEOUT"}},
		},
		"WorkloadClusterRefused": {
			reason: "An API server that answered with an error is not reported as silent.",
			got: func(b *backends) diag.Diagnostic {
				return b.workloadClusterError("payments", "Cannot read the release", errors.New("secrets is forbidden"), "")
			},
			want: result{"Cannot read the release", []string{"secrets is forbidden"}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d := tc.got(newBackends(configs))
			got := result{Summary: d.Summary()}
			for _, m := range tc.want.Mentions {
				if strings.Contains(d.Detail(), m) {
					got.Mentions = append(got.Mentions, m)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\ndiagnostic (detail %q): -want, +got:\n%s", tc.reason, d.Detail(), diff)
			}
		})
	}
}
