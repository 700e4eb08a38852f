package access

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idp-platform/terraform-provider-idp/internal/keycloak"
	"github.com/idp-platform/terraform-provider-idp/internal/kube"
)

// fakeRealm is a realm in memory: groups by name, users by name, the login client's groups claim.
type fakeRealm struct {
	groups    map[string]*keycloak.Group
	members   map[string][]string // group name -> usernames
	users     []string
	loggedOut []string
	claim     bool // the client has a groups claim of its own
	ourMapper bool
}

func newFakeRealm(users ...string) *fakeRealm {
	return &fakeRealm{groups: map[string]*keycloak.Group{}, members: map[string][]string{}, users: users}
}

func (f *fakeRealm) byID(id string) *keycloak.Group {
	for _, g := range f.groups {
		if g.ID == id {
			return g
		}
	}
	return nil
}

func (f *fakeRealm) FindGroup(_ context.Context, name string) (keycloak.Group, bool, error) {
	g, ok := f.groups[name]
	if !ok {
		return keycloak.Group{}, false, nil
	}
	return *g, true, nil
}

func (f *fakeRealm) CreateGroup(_ context.Context, name string, attributes map[string][]string) (keycloak.Group, error) {
	if _, ok := f.groups[name]; ok {
		return keycloak.Group{}, keycloak.ErrConflict
	}
	g := &keycloak.Group{ID: name + "-id", Name: name, Attributes: attributes}
	f.groups[name] = g
	return *g, nil
}

func (f *fakeRealm) SetGroupAttributes(_ context.Context, group keycloak.Group) error {
	f.byID(group.ID).Attributes = group.Attributes
	return nil
}

func (f *fakeRealm) DeleteGroup(_ context.Context, id string) error {
	if g := f.byID(id); g != nil {
		delete(f.groups, g.Name)
		delete(f.members, g.Name)
	}
	return nil
}

func (f *fakeRealm) GroupMembers(_ context.Context, id string) ([]keycloak.User, error) {
	var users []keycloak.User
	for _, name := range f.members[f.byID(id).Name] {
		users = append(users, keycloak.User{ID: name + "-id", Username: name})
	}
	return users, nil
}

func (f *fakeRealm) FindUser(_ context.Context, username string) (keycloak.User, bool, error) {
	if !slices.Contains(f.users, username) {
		return keycloak.User{}, false, nil
	}
	return keycloak.User{ID: username + "-id", Username: username}, true, nil
}

func (f *fakeRealm) AddMember(_ context.Context, groupID, userID string) error {
	name, user := f.byID(groupID).Name, userID[:len(userID)-3]
	if !slices.Contains(f.members[name], user) {
		f.members[name] = append(f.members[name], user)
		sort.Strings(f.members[name])
	}
	return nil
}

func (f *fakeRealm) RemoveMember(_ context.Context, groupID, userID string) error {
	name, user := f.byID(groupID).Name, userID[:len(userID)-3]
	f.members[name] = slices.DeleteFunc(f.members[name], func(u string) bool { return u == user })
	return nil
}

func (f *fakeRealm) LogoutUser(_ context.Context, userID string) error {
	f.loggedOut = append(f.loggedOut, userID[:len(userID)-3])
	return nil
}

func (f *fakeRealm) GroupsWithAttribute(_ context.Context, key, value string) ([]keycloak.Group, error) {
	var groups []keycloak.Group
	for _, g := range f.groups {
		if slices.Contains(g.Attributes[key], value) {
			groups = append(groups, *g)
		}
	}
	return groups, nil
}

func (f *fakeRealm) EnsureGroupsClaim(context.Context, string) (bool, error) {
	if f.claim || f.ourMapper {
		return false, nil
	}
	f.ourMapper = true
	return true, nil
}

func (f *fakeRealm) RemoveGroupsClaim(context.Context, string) (bool, error) {
	removed := f.ourMapper
	f.ourMapper = false
	return removed, nil
}

func (f *fakeRealm) HasGroupsClaim(context.Context, string) (bool, error) {
	return f.claim || f.ourMapper, nil
}

// fakeCluster holds bindings by namespace/name; roles and namespaces that exist.
type fakeCluster struct {
	bindings   map[string]kube.Binding
	roles      []string
	namespaces []string
}

func newFakeCluster() *fakeCluster {
	return &fakeCluster{bindings: map[string]kube.Binding{}, roles: []string{"view", "edit"}, namespaces: []string{"a", "b"}}
}

func (c *fakeCluster) ApplyBinding(_ context.Context, b kube.Binding) error {
	c.bindings[b.Namespace+"/"+b.Name] = b
	return nil
}

func (c *fakeCluster) Bindings(_ context.Context, selector string) ([]kube.Binding, error) {
	key, value, _ := cutLabel(selector)
	var out []kube.Binding
	for _, b := range c.bindings {
		if b.Labels[key] == value {
			out = append(out, b)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Namespace+out[i].Name < out[j].Namespace+out[j].Name })
	return out, nil
}

func cutLabel(selector string) (string, string, bool) {
	for i := range selector {
		if selector[i] == '=' {
			return selector[:i], selector[i+1:], true
		}
	}
	return selector, "", false
}

func (c *fakeCluster) DeleteBinding(_ context.Context, namespace, name string) error {
	delete(c.bindings, namespace+"/"+name)
	return nil
}

func (c *fakeCluster) ClusterRoleExists(_ context.Context, name string) (bool, error) {
	return slices.Contains(c.roles, name), nil
}

func (c *fakeCluster) NamespaceExists(_ context.Context, name string) (bool, error) {
	return slices.Contains(c.namespaces, name), nil
}

func (c *fakeCluster) bindingKeys() []string {
	var keys []string
	for key := range c.bindings {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	return keys
}

func TestEngineSharedGroup(t *testing.T) {
	ctx := context.Background()
	realm, cluster := newFakeRealm("alice", "bob"), newFakeCluster()
	engine := Engine{Realm: realm, LoginClient: "kubernetes"}
	payments := Grant{Cluster: "c1", Group: "payments", Role: "edit", Namespaces: []string{"b", "a"}, Members: []string{"alice", "bob"}, ManageGroup: true}
	other := Grant{Cluster: "c2", Group: "payments", Role: "view", Members: []string{"bob"}, ManageGroup: true}

	if err := engine.Apply(ctx, cluster, payments, nil); err != nil {
		t.Fatal(err)
	}
	if err := engine.Apply(ctx, newFakeCluster(), other, nil); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a/idp:payments:edit", "b/idp:payments:edit"}, cluster.bindingKeys()); diff != "" {
		t.Errorf("bindings (-want +got):\n%s", diff)
	}
	if !realm.ourMapper {
		t.Error("the login client got no groups claim")
	}

	// bob leaves the first grant, but the second still lists him: he stays. alice goes and is logged out.
	updated := payments
	updated.Members = nil
	if err := engine.Apply(ctx, cluster, updated, &payments); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"bob"}, realm.members["payments"]); diff != "" {
		t.Errorf("members after alice left (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"alice"}, realm.loggedOut); diff != "" {
		t.Errorf("logged out (-want +got):\n%s", diff)
	}

	// The first grant goes: the group stays for the second, and so does the mapper.
	if err := engine.Revoke(ctx, cluster, updated, true); err != nil {
		t.Fatal(err)
	}
	if len(cluster.bindings) != 0 {
		t.Errorf("bindings left after revoke: %v", cluster.bindingKeys())
	}
	if _, ok := realm.groups["payments"]; !ok || !realm.ourMapper {
		t.Fatalf("the group (%t) or the mapper (%t) went while another grant uses them", ok, realm.ourMapper)
	}

	// The last grant goes: group and mapper with it.
	if err := engine.Revoke(ctx, nil, other, true); err != nil {
		t.Fatal(err)
	}
	if _, ok := realm.groups["payments"]; ok || realm.ourMapper {
		t.Errorf("after the last grant, group left: %t, mapper left: %t", ok, realm.ourMapper)
	}
}

func TestEngineExistingGroupAndExpiry(t *testing.T) {
	ctx := context.Background()
	realm, cluster := newFakeRealm("alice"), newFakeCluster()
	realm.claim = true
	if _, err := realm.CreateGroup(ctx, "ops", map[string][]string{"team": {"ops"}}); err != nil {
		t.Fatal(err)
	}
	engine := Engine{Realm: realm, LoginClient: "kubernetes"}
	grant := Grant{Cluster: "c", Group: "ops", Role: "view", Members: []string{"alice"}}
	if err := engine.Apply(ctx, cluster, grant, nil); err != nil {
		t.Fatal(err)
	}
	if realm.ourMapper {
		t.Error("a mapper was added to a client that already has a groups claim")
	}
	// Expiry: bindings and the member go, the grant's record stays, marked expired.
	if err := engine.Revoke(ctx, cluster, grant, false); err != nil {
		t.Fatal(err)
	}
	observed, err := engine.Observe(ctx, cluster, grant)
	if err != nil {
		t.Fatal(err)
	}
	want := Observed{GroupFound: true, Expired: true, Recorded: &Grant{Cluster: "c", Group: "ops", Role: "view", Members: []string{"alice"}}}
	if diff := cmp.Diff(want, observed); diff != "" {
		t.Errorf("observed after expiry (-want +got):\n%s", diff)
	}
	// Destroy: a group the grant did not create stays, with its own attributes and without the grant's.
	if err := engine.Revoke(ctx, cluster, grant, true); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string][]string{"team": {"ops"}}, realm.groups["ops"].Attributes); diff != "" {
		t.Errorf("attributes of the group after destroy (-want +got):\n%s", diff)
	}
}

func TestEngineApplyRefuses(t *testing.T) {
	cases := map[string]struct {
		reason string
		grant  Grant
		setup  func(*fakeCluster)
		want   error
	}{
		"MissingGroup": {
			reason: "manage_group = false never creates the group.",
			grant:  Grant{Cluster: "c", Group: "nobody", Role: "view"},
			want:   ErrGroupMissing,
		},
		"MissingUser": {
			reason: "A member Keycloak does not know fails the apply.",
			grant:  Grant{Cluster: "c", Group: "g", Role: "view", Members: []string{"carol"}, ManageGroup: true},
			want:   ErrUserMissing,
		},
		"MissingRole": {
			reason: "A ClusterRole the cluster lacks is refused before anything is made.",
			grant:  Grant{Cluster: "c", Group: "g", Role: "auditor", ManageGroup: true},
			want:   ErrRoleMissing,
		},
		"MissingNamespace": {
			reason: "RoleBindings go only into namespaces that exist.",
			grant:  Grant{Cluster: "c", Group: "g", Role: "view", Namespaces: []string{"nope"}, ManageGroup: true},
			want:   ErrNamespaceMissing,
		},
		"BindingTaken": {
			reason: "A binding of the same name made by another grant of the group is not taken over.",
			grant:  Grant{Cluster: "c", Group: "g", Role: "view", Namespaces: []string{"a"}, ManageGroup: true},
			setup: func(c *fakeCluster) {
				c.bindings["a/idp:g:view"] = kube.Binding{Namespace: "a", Name: "idp:g:view", Labels: map[string]string{LabelAccess: "g", LabelGrant: "grant-other"}}
			},
			want: ErrBindingTaken,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cluster := newFakeCluster()
			if tc.setup != nil {
				tc.setup(cluster)
			}
			err := Engine{Realm: newFakeRealm("alice"), LoginClient: "kubernetes"}.Apply(context.Background(), cluster, tc.grant, nil)
			if !errors.Is(err, tc.want) {
				t.Errorf("%s\nApply: %v, want %v", tc.reason, err, tc.want)
			}
		})
	}
}

func TestGrantNames(t *testing.T) {
	grant := Grant{Cluster: "dev", Group: "payments", Role: "edit", Namespaces: []string{"b", "a", "a"}}.Normalized()
	got := []string{grant.ID(), grant.BindingName(), grant.Subject(), Grant{Cluster: "dev", Group: "payments"}.Scope()}
	want := []string{"dev/payments/a,b", "idp:payments:edit", "oidc:payments", "cluster"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
	if len(grant.Name()) != len("grant-")+20 || grant.Name() == (Grant{Cluster: "dev", Group: "payments"}).Name() {
		t.Errorf("Name %q is not a distinct fixed-length name", grant.Name())
	}
}

func TestEngineBookkeeping(t *testing.T) {
	ctx := context.Background()
	var users []string
	for i := 0; i < 40; i++ {
		users = append(users, fmt.Sprintf("member-%02d-with-a-long-username@example.com", i))
	}
	realm, cluster := newFakeRealm(users...), newFakeCluster()
	engine := Engine{Realm: realm, LoginClient: "kubernetes"}
	grant := Grant{Cluster: "c", Group: "big", Role: "view", Namespaces: []string{"a", "b"}, Members: users, ManageGroup: true}
	if err := engine.Apply(ctx, cluster, grant, nil); err != nil {
		t.Fatal(err)
	}
	for key, values := range realm.groups["big"].Attributes {
		for _, v := range values {
			if len(v) > 255 {
				t.Errorf("attribute %s has a value of %d characters; Keycloak stores at most 255", key, len(v))
			}
		}
	}

	// The same grant ID applied by another configuration with another role is refused, not fought over.
	other := grant
	other.Role = "edit"
	if err := engine.Apply(ctx, cluster, other, nil); !errors.Is(err, ErrGrantTaken) {
		t.Errorf("a second configuration of the same grant: %v, want %v", err, ErrGrantTaken)
	}

	// An expiry for a grant the group holds no entry of removes no one.
	spoofed := Grant{Cluster: "elsewhere", Group: "big", Role: "view", Members: users[:1]}
	if err := engine.Revoke(ctx, cluster, spoofed, false); err != nil {
		t.Fatal(err)
	}
	if got := len(realm.members["big"]); got != len(users) || len(realm.loggedOut) > 0 {
		t.Errorf("an expiry without the grant's entry removed members: %d left of %d, logged out %v", got, len(users), realm.loggedOut)
	}
}
