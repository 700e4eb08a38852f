package keycloak_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/idp-platform/terraform-provider-idp/internal/keycloak"
)

// groupsMapper puts the user's group names into the groups claim of the ID token.
func groupsMapper(id, name string, config map[string]string) mapper {
	c := map[string]string{"claim.name": "groups", "full.path": "false", "id.token.claim": "true"}
	for k, v := range config {
		c[k] = v
	}
	return mapper{ID: id, Name: name, Protocol: "openid-connect", ProtocolMapper: "oidc-group-membership-mapper", Config: c}
}

// ours is the mapper the provider adds, as Keycloak then holds it.
func ours(id string) mapper {
	return groupsMapper(id, keycloak.GroupsClaimMapper, map[string]string{"access.token.claim": "true", "userinfo.token.claim": "true"})
}

var rolesAsGroups = mapper{ID: "roles", Name: "groups", Protocol: "openid-connect", ProtocolMapper: "oidc-usermodel-realm-role-mapper",
	Config: map[string]string{"claim.name": "groups", "id.token.claim": "true"}}

func TestEnsureGroupsClaim(t *testing.T) {
	cases := map[string]struct {
		reason       string
		clients      []fakeClient
		scopes       []fakeScope
		wantAdded    bool
		wantNoClient bool
		wantMappers  []mapper
	}{
		"EquivalentMapper": {
			reason:      "A mapper of another name that puts the group names into the groups claim is enough; nothing is added.",
			clients:     []fakeClient{{ID: "k", ClientID: "kubernetes", Mappers: []mapper{groupsMapper("m", "groups", nil)}}},
			wantMappers: []mapper{groupsMapper("m", "groups", nil)},
		},
		"EquivalentDefaultScope": {
			reason:  "A default client scope with such a mapper is enough too.",
			clients: []fakeClient{{ID: "k", ClientID: "kubernetes", DefaultScopes: []string{"profile", "groups"}}},
			scopes: []fakeScope{{Name: "profile"}, {Name: "groups", Mappers: []mapper{groupsMapper("m", "groups", nil)}},
				{Name: "optional", Mappers: []mapper{groupsMapper("o", "groups", nil)}}},
		},
		"OnlyOptionalScope": {
			reason:      "An optional client scope applies only when asked for, so the mapper is added.",
			clients:     []fakeClient{{ID: "k", ClientID: "kubernetes", DefaultScopes: []string{"profile"}}},
			scopes:      []fakeScope{{Name: "profile"}, {Name: "optional", Mappers: []mapper{groupsMapper("o", "groups", nil)}}},
			wantAdded:   true,
			wantMappers: []mapper{ours("mapper-1")},
		},
		"NoMapper": {
			reason:      "Without any such mapper the provider's mapper is added.",
			clients:     []fakeClient{{ID: "k", ClientID: "kubernetes"}},
			wantAdded:   true,
			wantMappers: []mapper{ours("mapper-1")},
		},
		"NotEquivalent": {
			reason: "Full group paths, a claim left out of the ID token, and realm roles in a claim named groups are not what clusters need.",
			clients: []fakeClient{{ID: "k", ClientID: "kubernetes", Mappers: []mapper{
				groupsMapper("p", "paths", map[string]string{"full.path": "true"}),
				groupsMapper("a", "access", map[string]string{"id.token.claim": "false"}),
				rolesAsGroups,
			}}},
			wantAdded: true,
			wantMappers: []mapper{groupsMapper("p", "paths", map[string]string{"full.path": "true"}),
				groupsMapper("a", "access", map[string]string{"id.token.claim": "false"}), rolesAsGroups, ours("mapper-1")},
		},
		"OwnMapperEdited": {
			reason:      "The provider's own mapper, edited so it no longer puts the claim, is set back.",
			clients:     []fakeClient{{ID: "k", ClientID: "kubernetes", Mappers: []mapper{groupsMapper("x", keycloak.GroupsClaimMapper, map[string]string{"full.path": "true"})}}},
			wantAdded:   true,
			wantMappers: []mapper{ours("x")},
		},
		"UnknownClient": {
			reason:       "A client_id that only resembles one in the realm is no client.",
			clients:      []fakeClient{{ID: "d", ClientID: "kubernetes-dashboard"}},
			wantNoClient: true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := &fakeRealm{clients: tc.clients, scopes: tc.scopes}
			c := f.serve(t)
			added, err := c.EnsureGroupsClaim(context.Background(), "kubernetes")
			if errors.Is(err, keycloak.ErrNoClient) != tc.wantNoClient || (err != nil && !tc.wantNoClient) {
				t.Fatalf("%s\nEnsureGroupsClaim(...): want no-client error %t, got %v", tc.reason, tc.wantNoClient, err)
			}
			if added != tc.wantAdded {
				t.Errorf("%s\nEnsureGroupsClaim(...): want added %t, got %t", tc.reason, tc.wantAdded, added)
			}
			if tc.wantNoClient {
				return
			}
			if diff := cmp.Diff(tc.wantMappers, f.clients[0].Mappers, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s\nmappers of the client: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestRemoveGroupsClaim(t *testing.T) {
	foreign := groupsMapper("f", "groups", nil)
	cases := map[string]struct {
		reason      string
		mappers     []mapper
		wantRemoved bool
		wantMappers []mapper
	}{
		"OursAndForeign": {
			reason:      "Only the provider's mapper is deleted; an equivalent mapper of another name stays.",
			mappers:     []mapper{foreign, ours("o")},
			wantRemoved: true,
			wantMappers: []mapper{foreign},
		},
		"OnlyForeign": {
			reason:      "Without the provider's mapper nothing is deleted.",
			mappers:     []mapper{foreign},
			wantMappers: []mapper{foreign},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := &fakeRealm{clients: []fakeClient{{ID: "k", ClientID: "kubernetes", Mappers: tc.mappers}}}
			c := f.serve(t)
			removed, err := c.RemoveGroupsClaim(context.Background(), "kubernetes")
			if err != nil {
				t.Fatalf("%s\nRemoveGroupsClaim(...): %v", tc.reason, err)
			}
			if removed != tc.wantRemoved {
				t.Errorf("%s\nRemoveGroupsClaim(...): want removed %t, got %t", tc.reason, tc.wantRemoved, removed)
			}
			if diff := cmp.Diff(tc.wantMappers, f.clients[0].Mappers, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s\nmappers of the client: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestHasGroupsClaim(t *testing.T) {
	cases := map[string]struct {
		reason string
		client fakeClient
		scopes []fakeScope
		want   bool
	}{
		"OwnMapper": {
			reason: "A mapper of the client puts the claim.",
			client: fakeClient{ID: "k", ClientID: "kubernetes", Mappers: []mapper{rolesAsGroups, groupsMapper("m", "groups", nil)}},
			want:   true,
		},
		"DefaultScope": {
			reason: "A mapper of a default client scope puts the claim.",
			client: fakeClient{ID: "k", ClientID: "kubernetes", DefaultScopes: []string{"groups"}},
			scopes: []fakeScope{{Name: "groups", Mappers: []mapper{groupsMapper("m", "groups", nil)}}},
			want:   true,
		},
		"RolesOnly": {
			reason: "Realm roles in a claim named groups are not group membership.",
			client: fakeClient{ID: "k", ClientID: "kubernetes", Mappers: []mapper{rolesAsGroups}, DefaultScopes: []string{"microprofile-jwt"}},
			scopes: []fakeScope{{Name: "microprofile-jwt", Mappers: []mapper{rolesAsGroups}}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := (&fakeRealm{clients: []fakeClient{tc.client}, scopes: tc.scopes}).serve(t)
			got, err := c.HasGroupsClaim(context.Background(), "kubernetes")
			if err != nil {
				t.Fatalf("%s\nHasGroupsClaim(...): %v", tc.reason, err)
			}
			if got != tc.want {
				t.Errorf("%s\nHasGroupsClaim(...): want %t, got %t", tc.reason, tc.want, got)
			}
		})
	}
}
