package access

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idp-platform/terraform-provider-idp/internal/keycloak"
)

func TestTeamGroup(t *testing.T) {
	grantEntry := map[string][]string{attributeGrantPrefix + "grant-x": {"role=edit", "manage=true"}}
	cases := map[string]struct {
		reason string
		// existing is the group before the team, nil for none.
		existing    map[string][]string
		wantEnsure  error
		wantCreated bool
		// grants are what grants add to the group while the team has it.
		grants map[string][]string
		// wantAfter is the group's attributes after the team is released; nil when it is deleted.
		wantAfter map[string][]string
	}{
		"CreatedAndDeleted": {
			reason:      "A group the team created is deleted with the team.",
			wantCreated: true,
		},
		"AdoptedAndKept": {
			reason:    "A group that existed is only marked, and left as it was when the team goes.",
			existing:  map[string][]string{"owner": {"hr"}},
			wantAfter: map[string][]string{"owner": {"hr"}},
		},
		"GrantCreatedUnused": {
			reason:   "A group grants created and left to the team goes with it once no grant uses it, so nothing is left behind.",
			existing: map[string][]string{attributeCreatedBy: {ManagedBy}},
		},
		"CreatedInUse": {
			reason:      "A group the team created that a grant still uses passes to the grants, whose last deletes it.",
			wantCreated: true,
			grants:      grantEntry,
			wantAfter:   map[string][]string{attributeGrantPrefix + "grant-x": {"role=edit", "manage=true"}, attributeCreatedBy: {ManagedBy}},
		},
		"OtherTeams": {
			reason:     "A group is one team's.",
			existing:   map[string][]string{attributeTeam: {"billing"}},
			wantEnsure: ErrTeamGroupTaken,
			wantAfter:  map[string][]string{attributeTeam: {"billing"}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			realm := newFakeRealm()
			if tc.existing != nil {
				realm.groups["team-payments"] = &keycloak.Group{ID: "g", Name: "team-payments", Attributes: tc.existing}
			}
			engine := Engine{Realm: realm}
			group, err := engine.EnsureTeamGroup(ctx, "payments", "team-payments")
			if !errors.Is(err, tc.wantEnsure) {
				t.Fatalf("%s\nEnsureTeamGroup: error %v, want %v", tc.reason, err, tc.wantEnsure)
			}
			if err == nil {
				if group.Created != tc.wantCreated {
					t.Errorf("%s\nEnsureTeamGroup: Created %t, want %t", tc.reason, group.Created, tc.wantCreated)
				}
				if _, found, err := engine.ObserveTeamGroup(ctx, "payments", "team-payments"); err != nil || !found {
					t.Errorf("%s\nObserveTeamGroup: found %t, error %v; want the team's group", tc.reason, found, err)
				}
			}
			for key, values := range tc.grants {
				realm.groups["team-payments"].Attributes[key] = values
			}
			if err := engine.ReleaseTeamGroup(ctx, "payments", "team-payments"); err != nil {
				t.Fatalf("%s\nReleaseTeamGroup: %v", tc.reason, err)
			}
			var after map[string][]string
			if g, ok := realm.groups["team-payments"]; ok {
				after = g.Attributes
			}
			if diff := cmp.Diff(tc.wantAfter, after); diff != "" {
				t.Errorf("%s\ngroup after ReleaseTeamGroup: -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}
