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
		reason    string
		identity  Identity
		wantTeam  string
		wantOK    bool
		wantTeams []string
	}{
		"TeamRole":  {reason: "An AppRole role idp-team-<team> is that team's.", identity: Identity{Method: "approle", Name: "idp-team-payments"}, wantTeam: "payments", wantOK: true, wantTeams: []string{"payments"}},
		"JWTRole":   {reason: "So is a JWT role of that name.", identity: Identity{Method: "jwt", Name: "idp-team-data"}, wantTeam: "data", wantOK: true, wantTeams: []string{"data"}},
		"OtherRole": {reason: "Another role is no team's.", identity: Identity{Method: "approle", Name: "idp-provider"}},
		"Token":     {reason: "A token's display name is never read as a team.", identity: Identity{Method: "token", Name: "idp-team-x"}},
		"TeamToken": {reason: "A token with one team's policy is that team's, however it was issued.",
			identity: Identity{Method: "token", Name: "approle", Policies: []string{"default", "idp-team-payments"}}, wantTeam: "payments", wantOK: true, wantTeams: []string{"payments"}},
		"RootToken": {reason: "A token without a team policy is no team's.", identity: Identity{Method: "token", Name: "root", Policies: []string{"root"}}},
		"TwoTeamToken": {reason: "A token with two teams' policies is not one team's (Teams names both).",
			identity: Identity{Method: "token", Name: "token", Policies: []string{"idp-team-b", "idp-team-a"}}, wantTeams: []string{"a", "b"}},
		"PrefixOnly": {reason: "The prefix alone names no team.", identity: Identity{Method: "approle", Name: "idp-team-"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			team, ok := tc.identity.Team()
			if team != tc.wantTeam || ok != tc.wantOK {
				t.Errorf("%s\nTeam(): got %q, %t, want %q, %t", tc.reason, team, ok, tc.wantTeam, tc.wantOK)
			}
			if diff := cmp.Diff(tc.wantTeams, tc.identity.Teams()); diff != "" {
				t.Errorf("%s\nTeams() (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
}

func TestClusterPatternsOverlap(t *testing.T) {
	cases := map[string]struct {
		reason string
		a, b   string
		want   bool
	}{
		"SameName":       {reason: "One cluster named twice.", a: "payments", b: "payments", want: true},
		"OtherName":      {reason: "Two names are two clusters.", a: "payments", b: "billing"},
		"NameInPrefix":   {reason: "A prefix covers the names it starts.", a: "pay-*", b: "pay-ments", want: true},
		"PrefixOfName":   {reason: "Either side may be the prefix.", a: "pay-ments", b: "pay-*", want: true},
		"NestedPrefixes": {reason: "A shorter prefix covers a longer one.", a: "pay-*", b: "pay-ments-*", want: true},
		"ApartPrefixes":  {reason: "Prefixes that start apart share no cluster.", a: "pay-*", b: "bill-*"},
		"NameNotCovered": {reason: "A name shorter than the prefix is not covered.", a: "pay-ments-*", b: "pay"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, clusterPatternsOverlap(tc.a, tc.b)); diff != "" {
				t.Errorf("%s\nclusterPatternsOverlap(%q, %q) (-want +got):\n%s", tc.reason, tc.a, tc.b, diff)
			}
		})
	}
}
