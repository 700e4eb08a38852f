package provider

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/idp-platform/terraform-provider-idp/internal/backstage"
	"github.com/idp-platform/terraform-provider-idp/internal/vault"
)

// catalogVault is a Vault with registered clusters and the teams' policies, or an error for the teams.
type catalogVault struct {
	registrations
	teams    []vault.TeamClusters
	teamsErr error
}

func (v catalogVault) ListClusters(context.Context) ([]string, error) {
	var names []string
	for name := range v.kubeconfigs {
		names = append(names, name)
	}
	return names, nil
}

func (v catalogVault) Teams(context.Context) ([]vault.TeamClusters, error) {
	return v.teams, v.teamsErr
}
func (catalogVault) TeamSecretsPath(team string) string       { return "idp/credentials/" + team }
func (catalogVault) ClusterSecretsPath(cluster string) string { return "idp/clusters/" + cluster }
func (catalogVault) KVMountPath() string                      { return "secret" }

func TestCatalogPlatform(t *testing.T) {
	registered := map[string]string{"payments-dev": testKubeconfig}
	cases := map[string]struct {
		reason    string
		vault     catalogVault
		wantTeams []backstage.Team
		wantOwner string
		want      []diagSummary
	}{
		"OwnedByPolicy": {
			reason:    "The team whose Vault policy names the cluster owns it.",
			vault:     catalogVault{registrations: registrations{kubeconfigs: registered}, teams: []vault.TeamClusters{{Name: "payments", Clusters: []string{"payments-*"}}}},
			wantTeams: []backstage.Team{{Name: "payments", SecretsPath: "idp/credentials/payments"}},
			wantOwner: "payments",
		},
		"TeamLogin": {
			reason: "A login that may not list the policies gets the clusters, no teams from Vault, and a warning that says so.",
			vault: catalogVault{registrations: registrations{kubeconfigs: registered},
				teamsErr: fmt.Errorf("cannot list the Vault ACL policies: %w", vault.ErrPermissionDenied)},
			want: []diagSummary{{Summary: "Teams not read from Vault"}},
		},
		"VaultFails": {
			reason: "Any other failure of Vault fails the read.",
			vault:  catalogVault{registrations: registrations{kubeconfigs: registered}, teamsErr: errors.New("connection refused")},
			want:   []diagSummary{{Summary: "Cannot list the platform's teams"}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			b := newBackends(backendConfigs{vault: &vault.Config{Address: "https://vault.example.com"}})
			b.newVault = func(context.Context, vault.Config) (vaultAPI, error) { return tc.vault, nil }
			platform, diags := b.catalogPlatform(context.Background(), catalogDataModel{AppClusters: types.SetNull(types.StringType)})
			if diff := cmp.Diff(tc.want, summarize(diags)); diff != "" {
				t.Fatalf("%s\ncatalogPlatform(...) diagnostics: -want, +got:\n%s", tc.reason, diff)
			}
			if diags.HasError() {
				return
			}
			if diff := cmp.Diff(tc.wantTeams, platform.Teams); diff != "" {
				t.Errorf("%s\ncatalogPlatform(...) teams: -want, +got:\n%s", tc.reason, diff)
			}
			if len(platform.Clusters) != 1 || platform.Clusters[0].Team != tc.wantOwner || platform.Clusters[0].SecretsPath != "idp/clusters/payments-dev" {
				t.Errorf("%s\ncatalogPlatform(...) clusters: %+v, want payments-dev owned by %q", tc.reason, platform.Clusters, tc.wantOwner)
			}
		})
	}
}
