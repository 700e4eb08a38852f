package provider

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/idp-platform/terraform-provider-idp/internal/kube"
	"github.com/idp-platform/terraform-provider-idp/internal/vault"
)

// registrations is a Vault that knows some clusters' kubeconfigs.
type registrations struct {
	vaultAPI
	kubeconfigs map[string]string
	err         error
}

func (r registrations) GetKubeconfig(_ context.Context, cluster string) (vault.Kubeconfig, error) {
	if r.err != nil {
		return vault.Kubeconfig{}, r.err
	}
	raw, ok := r.kubeconfigs[cluster]
	if !ok {
		return vault.Kubeconfig{}, fmt.Errorf("kubeconfig of cluster %q: %w", cluster, vault.ErrNotFound)
	}
	return vault.Kubeconfig{Kubeconfig: raw}, nil
}

func (registrations) KubeconfigLocation(cluster string) string {
	return "secret/idp/clusters/" + cluster + "/kubeconfig"
}

const testKubeconfig = `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`

func TestClusterEngine(t *testing.T) {
	cases := map[string]struct {
		reason string
		vault  registrations
		want   []diagSummary
	}{
		"Registered": {
			reason: "A cluster Vault knows gets an engine, without contacting the cluster.",
			vault:  registrations{kubeconfigs: map[string]string{"payments": testKubeconfig}},
		},
		"Unknown": {
			reason: "A cluster Vault does not know is an error on the attribute that names it, in the one wording.",
			vault:  registrations{kubeconfigs: map[string]string{}},
			want:   []diagSummary{{Path: "cluster", Summary: "Unknown cluster"}},
		},
		"VaultFails": {
			reason: "Vault failing is not an unknown cluster.",
			vault:  registrations{err: errors.New("permission denied")},
			want:   []diagSummary{{Summary: "Cannot read the cluster's kubeconfig from Vault"}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			b := newBackends(backendConfigs{vault: &vault.Config{Address: "https://vault.example.com"}})
			b.newVault = func(context.Context, vault.Config) (vaultAPI, error) { return tc.vault, nil }
			engine, diags := b.ClusterEngine(context.Background(), "payments", path.Root("cluster"))
			if diff := cmp.Diff(tc.want, summarize(diags)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tc.reason, diff)
			}
			if (engine != nil) != (tc.want == nil) {
				t.Errorf("%s: engine %v with diagnostics %v", tc.reason, engine, diags)
			}
		})
	}
}

type fakeCrossplane struct{ crossplaneAPI }

func TestBackendsCrossplane(t *testing.T) {
	builds := 0
	b := newBackends(backendConfigs{management: &kube.Config{KubeconfigPath: "/nonexistent"}})
	b.newCrossplane = func(kube.Config) (crossplaneAPI, error) {
		builds++
		if builds == 1 {
			return nil, errors.New("no such file")
		}
		return fakeCrossplane{}, nil
	}
	if _, diags := b.Crossplane(); !diags.HasError() {
		t.Error("a client that cannot be built is a diagnostic")
	}
	for range 2 {
		if client, diags := b.Crossplane(); diags.HasError() || client == nil {
			t.Errorf("after a failed build the next use builds again and shares the client: %v", diags)
		}
	}
	if builds != 2 {
		t.Errorf("the Crossplane client was built %d times, want 2 (a failure is not remembered, a client is)", builds)
	}
	unconfigured := newBackends(backendConfigs{})
	if _, diags := unconfigured.Crossplane(); !diags.HasError() || diags[0].Summary() != "The provider's management_cluster block is not configured" {
		t.Errorf("without a management_cluster block: %v", diags)
	}
}
