package keycloak_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/idp-platform/terraform-provider-idp/internal/keycloak"
)

func TestFindGroup(t *testing.T) {
	type want struct {
		Group keycloak.Group
		Found bool
	}
	cases := map[string]struct {
		reason string
		groups []fakeGroup
		name   string
		want   want
	}{
		"ExactName": {
			reason: "Of the groups a search for the name returns, only the top-level one with exactly that name is the group, with its attributes.",
			groups: []fakeGroup{
				{ID: "g1", Name: "team-a-admins"},
				{ID: "g2", Name: "Team-A"},
				{ID: "g3", Name: "team-a", Attributes: map[string][]string{"k": {"v"}}},
			},
			name: "team-a",
			want: want{Group: keycloak.Group{ID: "g3", Name: "team-a", Attributes: map[string][]string{"k": {"v"}}}, Found: true},
		},
		"OnlyASubGroup": {
			reason: "A sub-group of that name, and its parent, are not the top-level group.",
			groups: []fakeGroup{
				{ID: "p", Name: "platform"},
				{ID: "s", Name: "team-a", ParentID: "p"},
				{ID: "d", Name: "team-a-admins"},
			},
			name: "team-a",
		},
		"Missing": {
			reason: "No group of that name is not an error.",
			name:   "team-a",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := (&fakeRealm{groups: tc.groups}).serve(t)
			g, found, err := c.FindGroup(context.Background(), tc.name)
			if err != nil {
				t.Fatalf("%s\nFindGroup(%q): %v", tc.reason, tc.name, err)
			}
			if diff := cmp.Diff(tc.want, want{Group: g, Found: found}, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s\nFindGroup(%q): -want, +got:\n%s", tc.reason, tc.name, diff)
			}
		})
	}
}

func TestGroupsWithAttribute(t *testing.T) {
	const key = "platform.idp.dev/grant"
	many := []fakeGroup{}
	wantMany := []keycloak.Group{}
	for i := range 150 {
		g := fakeGroup{ID: fmt.Sprintf("g%03d", i), Name: fmt.Sprintf("team-%03d", i), Attributes: map[string][]string{key: {"grant-1"}}}
		many = append(many, g)
		wantMany = append(wantMany, keycloak.Group{ID: g.ID, Name: g.Name, Attributes: g.Attributes})
	}
	cases := map[string]struct {
		reason string
		groups []fakeGroup
		key    string // the const key when empty
		value  string
		want   []keycloak.Group
	}{
		"ExactValue": {
			reason: "Only top-level groups with exactly that value count; a value in another case, a sub-group, and the parent Keycloak answers for a sub-group do not.",
			groups: []fakeGroup{
				{ID: "a", Name: "team-a", Attributes: map[string][]string{key: {"other", "grant-1"}}},
				{ID: "b", Name: "team-b", Attributes: map[string][]string{key: {"GRANT-1"}}},
				{ID: "p", Name: "platform", Attributes: map[string][]string{key: {"grant-2"}}},
				{ID: "s", Name: "team-c", ParentID: "p", Attributes: map[string][]string{key: {"grant-1"}}},
				{ID: "d", Name: "team-d", Attributes: map[string][]string{"other/key": {"grant-1"}}},
			},
			value: "grant-1",
			want:  []keycloak.Group{{ID: "a", Name: "team-a", Attributes: map[string][]string{key: {"other", "grant-1"}}}},
		},
		"ManyGroups": {
			reason: "More groups than fit one page are all returned.",
			groups: many,
			value:  "grant-1",
			want:   wantMany,
		},
		"Unsearchable": {
			reason: "An attribute Keycloak's q cannot express is looked for in all top-level groups, with the same result.",
			groups: []fakeGroup{
				{ID: "a", Name: "team-a", Attributes: map[string][]string{`odd:key\`: {`v\`}}},
				{ID: "b", Name: "team-b", Attributes: map[string][]string{`odd:key\`: {"v"}}},
				{ID: "p", Name: "platform"},
				{ID: "s", Name: "team-c", ParentID: "p", Attributes: map[string][]string{`odd:key\`: {`v\`}}},
			},
			key:   `odd:key\`,
			value: `v\`,
			want:  []keycloak.Group{{ID: "a", Name: "team-a", Attributes: map[string][]string{`odd:key\`: {`v\`}}}},
		},
		"None": {
			reason: "No group with the attribute is not an error.",
			groups: []fakeGroup{{ID: "a", Name: "team-a"}},
			value:  "grant-1",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := (&fakeRealm{groups: tc.groups}).serve(t)
			k := key
			if tc.key != "" {
				k = tc.key
			}
			got, err := c.GroupsWithAttribute(context.Background(), k, tc.value)
			if err != nil {
				t.Fatalf("%s\nGroupsWithAttribute(...): %v", tc.reason, err)
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s\nGroupsWithAttribute(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestCreateGroup(t *testing.T) {
	cases := map[string]struct {
		reason       string
		groups       []fakeGroup
		attributes   map[string][]string
		want         keycloak.Group
		wantConflict bool
		wantGroups   []fakeGroup
	}{
		"New": {
			reason:     "A new group is returned with its ID and the attributes Keycloak keeps: not those without values.",
			groups:     []fakeGroup{{ID: "p", Name: "platform"}, {ID: "s", Name: "team-a", ParentID: "p"}},
			attributes: map[string][]string{"k": {"v", ""}, "none": {}},
			want:       keycloak.Group{ID: "group-1", Name: "team-a", Attributes: map[string][]string{"k": {"v", ""}}},
			wantGroups: []fakeGroup{{ID: "p", Name: "platform"}, {ID: "s", Name: "team-a", ParentID: "p"},
				{ID: "group-1", Name: "team-a", Attributes: map[string][]string{"k": {"v", ""}}}},
		},
		"Exists": {
			reason:       "A top-level group of that name is a conflict, and it is left as it is.",
			groups:       []fakeGroup{{ID: "a", Name: "team-a"}},
			attributes:   map[string][]string{"k": {"v"}},
			wantConflict: true,
			wantGroups:   []fakeGroup{{ID: "a", Name: "team-a"}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := &fakeRealm{groups: tc.groups}
			c := f.serve(t)
			got, err := c.CreateGroup(context.Background(), "team-a", tc.attributes)
			if errors.Is(err, keycloak.ErrConflict) != tc.wantConflict || (err != nil && !tc.wantConflict) {
				t.Fatalf("%s\nCreateGroup(...): want conflict %t, got error %v", tc.reason, tc.wantConflict, err)
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s\nCreateGroup(...): -want, +got:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.wantGroups, f.groups, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s\ngroups in Keycloak: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestSetGroupAttributes(t *testing.T) {
	cases := map[string]struct {
		reason     string
		group      keycloak.Group
		wantErr    bool
		wantGroups []fakeGroup
	}{
		"Replace": {
			reason:     "The attributes are replaced and the group keeps the name it has, whatever name it is given.",
			group:      keycloak.Group{ID: "a", Name: "renamed", Attributes: map[string][]string{"new": {"1"}, "none": {}}},
			wantGroups: []fakeGroup{{ID: "a", Name: "team-a", Attributes: map[string][]string{"new": {"1"}}}},
		},
		"Clear": {
			reason:     "No attributes remove all of them: the request still carries an (empty) map, without which Keycloak would keep them.",
			group:      keycloak.Group{ID: "a"},
			wantGroups: []fakeGroup{{ID: "a", Name: "team-a"}},
		},
		"Missing": {
			reason:     "A group that does not exist is an error.",
			group:      keycloak.Group{ID: "gone", Name: "gone"},
			wantErr:    true,
			wantGroups: []fakeGroup{{ID: "a", Name: "team-a", Attributes: map[string][]string{"old": {"1"}}}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := &fakeRealm{groups: []fakeGroup{{ID: "a", Name: "team-a", Attributes: map[string][]string{"old": {"1"}}}}}
			c := f.serve(t)
			err := c.SetGroupAttributes(context.Background(), tc.group)
			if (err != nil) != tc.wantErr {
				t.Fatalf("%s\nSetGroupAttributes(...): want error %t, got %v", tc.reason, tc.wantErr, err)
			}
			if diff := cmp.Diff(tc.wantGroups, f.groups, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s\ngroups in Keycloak: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestDeleteGroup(t *testing.T) {
	cases := map[string]struct {
		reason string
		id     string
		want   []fakeGroup
	}{
		"Exists": {
			reason: "The group is deleted, and no other.",
			id:     "a",
			want:   []fakeGroup{{ID: "b", Name: "team-b"}},
		},
		"Missing": {
			reason: "A group that is gone already is not an error (Keycloak answers 404).",
			id:     "gone",
			want:   []fakeGroup{{ID: "a", Name: "team-a"}, {ID: "b", Name: "team-b"}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := &fakeRealm{groups: []fakeGroup{{ID: "a", Name: "team-a"}, {ID: "b", Name: "team-b"}}}
			c := f.serve(t)
			if err := c.DeleteGroup(context.Background(), tc.id); err != nil {
				t.Fatalf("%s\nDeleteGroup(%q): %v", tc.reason, tc.id, err)
			}
			if diff := cmp.Diff(tc.want, f.groups, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s\ngroups in Keycloak: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestGroupMembers(t *testing.T) {
	users := func(n int) []keycloak.User {
		var us []keycloak.User
		for i := range n {
			us = append(us, keycloak.User{ID: fmt.Sprintf("u%03d", i), Username: fmt.Sprintf("user-%03d", i)})
		}
		return us
	}
	cases := map[string]struct {
		reason  string
		members int
	}{
		"None":      {reason: "A group without members has none.", members: 0},
		"Few":       {reason: "All members of a small group are returned.", members: 3},
		"OnePage":   {reason: "Exactly one full page is followed by an empty one.", members: 100},
		"ManyPages": {reason: "Keycloak answers at most 100 members at a time; all of them are returned.", members: 250},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			all := users(300)
			f := &fakeRealm{groups: []fakeGroup{{ID: "a", Name: "team-a"}}, users: all, members: map[string][]string{}}
			for _, u := range all[:tc.members] {
				f.members["a"] = append(f.members["a"], u.ID)
			}
			c := f.serve(t)
			got, err := c.GroupMembers(context.Background(), "a")
			if err != nil {
				t.Fatalf("%s\nGroupMembers(...): %v", tc.reason, err)
			}
			if diff := cmp.Diff(all[:tc.members], got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s\nGroupMembers(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestFindUser(t *testing.T) {
	type want struct {
		User  keycloak.User
		Found bool
	}
	realmUsers := []keycloak.User{{ID: "1", Username: "malice"}, {ID: "2", Username: "alice2"}, {ID: "3", Username: "alice"}}
	cases := map[string]struct {
		reason   string
		username string
		want     want
	}{
		"Exact": {
			reason:   "Of users whose name contains the username, only the one with that name is the user.",
			username: "alice",
			want:     want{User: keycloak.User{ID: "3", Username: "alice"}, Found: true},
		},
		"OtherCase": {
			reason:   "Keycloak's usernames are lower case; another case names the same user, returned with Keycloak's username.",
			username: "Alice",
			want:     want{User: keycloak.User{ID: "3", Username: "alice"}, Found: true},
		},
		"Missing": {
			reason:   "No user of that name is not an error.",
			username: "ali",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := (&fakeRealm{users: realmUsers}).serve(t)
			u, found, err := c.FindUser(context.Background(), tc.username)
			if err != nil {
				t.Fatalf("%s\nFindUser(%q): %v", tc.reason, tc.username, err)
			}
			if diff := cmp.Diff(tc.want, want{User: u, Found: found}); diff != "" {
				t.Errorf("%s\nFindUser(%q): -want, +got:\n%s", tc.reason, tc.username, diff)
			}
		})
	}
}

func TestMembership(t *testing.T) {
	type step struct {
		add     bool
		group   string
		user    string
		wantErr bool
	}
	cases := map[string]struct {
		reason      string
		steps       []step
		wantMembers map[string][]string
	}{
		"AddTwice": {
			reason:      "Adding a member again changes nothing and is not an error.",
			steps:       []step{{add: true, group: "a", user: "u1"}, {add: true, group: "a", user: "u1"}},
			wantMembers: map[string][]string{"a": {"u1"}},
		},
		"RemoveTwice": {
			reason:      "Removing a user who is no longer a member is not an error.",
			steps:       []step{{add: true, group: "a", user: "u1"}, {group: "a", user: "u1"}, {group: "a", user: "u1"}},
			wantMembers: map[string][]string{"a": {}},
		},
		"RemoveFromMissingGroup": {
			reason: "Removing a user from a group that is gone is not an error: the user is not a member.",
			steps:  []step{{group: "gone", user: "u1"}},
		},
		"AddToMissingGroup": {
			reason: "Adding a user to a group that does not exist is an error.",
			steps:  []step{{add: true, group: "gone", user: "u1", wantErr: true}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := &fakeRealm{groups: []fakeGroup{{ID: "a", Name: "team-a"}}, users: []keycloak.User{{ID: "u1", Username: "alice"}}}
			c := f.serve(t)
			for i, s := range tc.steps {
				var err error
				if s.add {
					err = c.AddMember(context.Background(), s.group, s.user)
				} else {
					err = c.RemoveMember(context.Background(), s.group, s.user)
				}
				if (err != nil) != s.wantErr {
					t.Errorf("%s\nstep %d (add %t): want error %t, got %v", tc.reason, i, s.add, s.wantErr, err)
				}
			}
			if diff := cmp.Diff(tc.wantMembers, f.members, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s\nmembers in Keycloak: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestLogoutUser(t *testing.T) {
	cases := map[string]struct {
		reason string
		id     string
		want   []string
	}{
		"Exists":  {reason: "The user's sessions are ended.", id: "u1", want: []string{"u1"}},
		"Missing": {reason: "A user who no longer exists has no sessions; that is not an error.", id: "gone"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := &fakeRealm{users: []keycloak.User{{ID: "u1", Username: "alice"}}}
			c := f.serve(t)
			if err := c.LogoutUser(context.Background(), tc.id); err != nil {
				t.Fatalf("%s\nLogoutUser(%q): %v", tc.reason, tc.id, err)
			}
			if diff := cmp.Diff(tc.want, f.loggedOut, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s\nlogged out: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestEscaping shows that names and IDs with characters that mean something in a URL reach Keycloak
// as the values they are, and never change which path is asked for.
func TestEscaping(t *testing.T) {
	const odd = `a/../b?c=d&e#f %2F"`
	cases := map[string]struct {
		reason string
		call   func(*keycloak.Client) error
		want   request
	}{
		"FindGroup": {
			reason: "A group name is a query value.",
			call:   func(c *keycloak.Client) error { _, _, err := c.FindGroup(context.Background(), odd); return err },
			want: request{Method: http.MethodGet, Path: "/admin/realms/idp/groups", Query: url.Values{"search": {odd}, "exact": {"true"},
				"briefRepresentation": {"false"}, "populateHierarchy": {"false"}, "first": {"0"}, "max": {"100"}}},
		},
		"GroupsWithAttribute": {
			reason: "An attribute key and value are quoted in q, a quote in them escaped.",
			call: func(c *keycloak.Client) error {
				_, err := c.GroupsWithAttribute(context.Background(), `k "e y"`, odd)
				return err
			},
			want: request{Method: http.MethodGet, Path: "/admin/realms/idp/groups", Query: url.Values{"q": {`"k \"e y\"":"a/../b?c=d&e#f %2F\""`},
				"briefRepresentation": {"false"}, "populateHierarchy": {"false"}, "first": {"0"}, "max": {"100"}}},
		},
		"GroupsWithAttributeUnsearchable": {
			reason: "An attribute key with a colon cannot be put in q: all top-level groups are listed instead.",
			call: func(c *keycloak.Client) error {
				_, err := c.GroupsWithAttribute(context.Background(), "k:ey", "v")
				return err
			},
			want: request{Method: http.MethodGet, Path: "/admin/realms/idp/groups", Query: url.Values{
				"briefRepresentation": {"false"}, "populateHierarchy": {"false"}, "first": {"0"}, "max": {"100"}}},
		},
		"FindUser": {
			reason: "A username is a query value.",
			call:   func(c *keycloak.Client) error { _, _, err := c.FindUser(context.Background(), odd); return err },
			want: request{Method: http.MethodGet, Path: "/admin/realms/idp/users",
				Query: url.Values{"username": {odd}, "exact": {"true"}, "briefRepresentation": {"true"}}},
		},
		"DeleteGroup": {
			reason: "An ID is one path segment, its slashes and dots escaped.",
			call:   func(c *keycloak.Client) error { return c.DeleteGroup(context.Background(), odd) },
			want:   request{Method: http.MethodDelete, Path: "/admin/realms/idp/groups/a%2F..%2Fb%3Fc=d&e%23f%20%252F%22", Query: url.Values{}},
		},
		"RemoveMember": {
			reason: "Both IDs are single path segments.",
			call:   func(c *keycloak.Client) error { return c.RemoveMember(context.Background(), "../x", "y/..") },
			want:   request{Method: http.MethodDelete, Path: "/admin/realms/idp/users/y%2F../groups/..%2Fx", Query: url.Values{}},
		},
		"HasGroupsClaim": {
			reason: "A client_id is a query value.",
			call:   func(c *keycloak.Client) error { _, err := c.HasGroupsClaim(context.Background(), odd); return err },
			want:   request{Method: http.MethodGet, Path: "/admin/realms/idp/clients", Query: url.Values{"clientId": {odd}}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := &fakeRealm{}
			c := f.serve(t)
			// Nothing of these names exists; only what was asked matters.
			_ = tc.call(c)
			requests := f.adminRequests()
			if len(requests) == 0 {
				t.Fatalf("%s\nno request reached the admin API", tc.reason)
			}
			if diff := cmp.Diff(tc.want, requests[0]); diff != "" {
				t.Errorf("%s\nfirst request: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestNoAnswer shows that every method reports a Keycloak that does not answer with ErrNoAnswer.
func TestNoAnswer(t *testing.T) {
	released := make(chan struct{})
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/realms/idp/protocol/openid-connect/token" {
			writeJSON(w, http.StatusOK, map[string]any{"access_token": "token", "expires_in": 300})
			return
		}
		select {
		case <-released:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(server.Close)
	t.Cleanup(func() { close(released) })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := keycloak.NewClient(ctx, keycloak.Config{URL: server.URL, Realm: "idp", AuthRealm: "idp",
		ClientID: "provider", ClientSecret: "s", RequestTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("NewClient(...): %v", err)
	}
	calls := map[string]func() error{
		"FindGroup":           func() error { _, _, err := c.FindGroup(ctx, "g"); return err },
		"CreateGroup":         func() error { _, err := c.CreateGroup(ctx, "g", nil); return err },
		"SetGroupAttributes":  func() error { return c.SetGroupAttributes(ctx, keycloak.Group{ID: "g", Name: "g"}) },
		"DeleteGroup":         func() error { return c.DeleteGroup(ctx, "g") },
		"GroupMembers":        func() error { _, err := c.GroupMembers(ctx, "g"); return err },
		"FindUser":            func() error { _, _, err := c.FindUser(ctx, "u"); return err },
		"AddMember":           func() error { return c.AddMember(ctx, "g", "u") },
		"RemoveMember":        func() error { return c.RemoveMember(ctx, "g", "u") },
		"LogoutUser":          func() error { return c.LogoutUser(ctx, "u") },
		"GroupsWithAttribute": func() error { _, err := c.GroupsWithAttribute(ctx, "k", "v"); return err },
		"EnsureGroupsClaim":   func() error { _, err := c.EnsureGroupsClaim(ctx, "kubernetes"); return err },
		"RemoveGroupsClaim":   func() error { _, err := c.RemoveGroupsClaim(ctx, "kubernetes"); return err },
		"HasGroupsClaim":      func() error { _, err := c.HasGroupsClaim(ctx, "kubernetes"); return err },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			if err := call(); !errors.Is(err, keycloak.ErrNoAnswer) {
				t.Errorf("%s(...) against a Keycloak that does not answer: want ErrNoAnswer, got %v", name, err)
			}
		})
	}
}
