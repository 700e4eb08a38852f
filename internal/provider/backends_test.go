package provider

import (
	"context"
	"errors"
	"fmt"
	"testing"

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
