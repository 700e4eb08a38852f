package vault

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func TestTeamPolicy(t *testing.T) {
	cases := map[string]struct {
		reason  string
		team    Team
		golden  string
		wantErr bool
	}{
		"PrefixAndName": {
			reason: "A prefix reaches every cluster of that prefix; a name only that cluster's kubeconfig; credentials only the team's own.",
			team:   Team{Name: "payments", Clusters: []string{"shared-dev", "payments-*", "payments-*"}},
			golden: "team-policy.hcl",
		},
		"NoClusters": {
			reason: "A team may own no cluster: it then reaches its credentials only.",
			team:   Team{Name: "data"},
			golden: "team-policy-no-clusters.hcl",
		},
		"PathInTeamName": {
			reason:  "A team name cannot reach another path.",
			team:    Team{Name: "a/../b"},
			wantErr: true,
		},
		"WildcardInside": {
			reason:  "Only a trailing * is a prefix; a * elsewhere would reach other teams' clusters.",
			team:    Team{Name: "a", Clusters: []string{"*-prod"}},
			wantErr: true,
		},
		"WildcardAlone": {
			reason:  "A bare * would be every cluster.",
			team:    Team{Name: "a", Clusters: []string{"*"}},
			wantErr: true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := TeamPolicy("secret", "idp", tc.team)
			if (err != nil) != tc.wantErr {
				t.Fatalf("%s\nTeamPolicy(...): error %v, want error %t", tc.reason, err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			file := filepath.Join("testdata", tc.golden)
			if *update {
				if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("%s\nTeamPolicy(...): -want +got:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(sortedUnique(tc.team.Clusters), teamClusters("secret", "idp", got)); diff != "" {
				t.Errorf("%s\nteamClusters(TeamPolicy(...)): -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestIdentityTeam(t *testing.T) {
	cases := map[string]struct {
		reason   string
		identity Identity
		wantTeam string
		wantOK   bool
	}{
		"TeamRole":   {reason: "An AppRole role idp-team-<team> is that team's.", identity: Identity{Method: "approle", Name: "idp-team-payments"}, wantTeam: "payments", wantOK: true},
		"JWTRole":    {reason: "So is a JWT role of that name.", identity: Identity{Method: "jwt", Name: "idp-team-data"}, wantTeam: "data", wantOK: true},
		"OtherRole":  {reason: "Another role is no team's.", identity: Identity{Method: "approle", Name: "idp-provider"}},
		"Token":      {reason: "A token's display name is never read as a team.", identity: Identity{Method: "token", Name: "idp-team-x"}},
		"PrefixOnly": {reason: "The prefix alone names no team.", identity: Identity{Method: "approle", Name: "idp-team-"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			team, ok := tc.identity.Team()
			if team != tc.wantTeam || ok != tc.wantOK {
				t.Errorf("%s\nTeam(): got %q, %t, want %q, %t", tc.reason, team, ok, tc.wantTeam, tc.wantOK)
			}
		})
	}
}
