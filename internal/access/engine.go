package access

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/idp-platform/terraform-provider-idp/internal/keycloak"
	"github.com/idp-platform/terraform-provider-idp/internal/kube"
)

// Engine applies, observes and revokes grants in one Keycloak realm. LoginClient is the client_id of
// the client users log in to clusters with, whose tokens must carry the groups claim.
type Engine struct {
	Realm       Realm
	LoginClient string
}

// The bookkeeping a grant keeps on its Keycloak group, so that grants sharing a group (one per
// cluster, say) know which members and which group they may take away: Keycloak itself is the
// record, and a grant made by another provider process is seen as well.
const (
	// attributeCreatedBy marks a group a grant created; only such a group is ever deleted.
	attributeCreatedBy = "idp-created-by"
	// attributeHasGrants is "true" while any grant uses the group; it is what GroupsWithAttribute
	// finds when deciding whether the groups claim mapper is still needed.
	attributeHasGrants = "idp-access"
	// attributeGrantPrefix + Grant.Name() holds the grant's entry (grantEntry as JSON).
	attributeGrantPrefix = "idp-grant:"
)

// grantEntry is a grant's bookkeeping on its group, kept as one multi-valued attribute whose values
// are short ("role=edit", "manage=true", "m=alice", "expired"): Keycloak stores each value in a
// column of 255 characters, which one value holding every member would overflow.
type grantEntry struct {
	Role        string
	ManageGroup bool
	Members     []string
	// Expired is set when the access controller revoked the grant at its expiry: its members are gone
	// and must not keep another grant from removing them.
	Expired bool
}

const (
	entryRole    = "role="
	entryManage  = "manage="
	entryMember  = "m="
	entryExpired = "expired"
)

func (e grantEntry) values() []string {
	values := []string{entryRole + e.Role, entryManage + strconv.FormatBool(e.ManageGroup)}
	for _, member := range e.Members {
		values = append(values, entryMember+member)
	}
	if e.Expired {
		values = append(values, entryExpired)
	}
	return values
}

func parseEntry(values []string) grantEntry {
	var e grantEntry
	for _, v := range values {
		switch {
		case strings.HasPrefix(v, entryRole):
			e.Role = strings.TrimPrefix(v, entryRole)
		case strings.HasPrefix(v, entryManage):
			e.ManageGroup = strings.TrimPrefix(v, entryManage) == "true"
		case strings.HasPrefix(v, entryMember):
			e.Members = append(e.Members, strings.TrimPrefix(v, entryMember))
		case v == entryExpired:
			e.Expired = true
		}
	}
	slices.Sort(e.Members)
	return e
}

// MaxUsernameLength keeps a member's entry value within Keycloak's 255 characters.
const MaxUsernameLength = 255 - len(entryMember)

// Errors a caller turns into diagnostics on the attribute at fault.
var (
	ErrGroupMissing     = errors.New("the group does not exist")
	ErrUserMissing      = errors.New("the user does not exist")
	ErrRoleMissing      = errors.New("the ClusterRole does not exist")
	ErrNamespaceMissing = errors.New("the namespace does not exist")
	ErrBindingTaken     = errors.New("the binding belongs to another grant")
	ErrGrantTaken       = errors.New("the grant is applied by another configuration")
)

// groupLocks serialises the read-modify-write of a group's attributes within the process: Keycloak
// has no conditional update, and Terraform applies grants of one group in parallel.
var groupLocks sync.Map

// claimLock orders writing a grant's bookkeeping and ensuring the groups claim against finding no grant
// left and removing the claim, so a destroy of the last grant of one group cannot remove the claim a
// create in another group has just relied on.
var claimLock sync.Mutex

func lockGroup(name string) func() {
	mu, _ := groupLocks.LoadOrStore(name, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	return mu.(*sync.Mutex).Unlock
}

// Apply makes the cluster and the realm match the grant: the group (created when absent and allowed),
// the listed members in it, members that previous listed and no grant lists any more removed and
// logged out, the groups claim on the login client, and one binding per namespace (or a cluster-wide
// one), with bindings of the grant that no longer apply deleted. previous is the grant as last applied,
// nil on create.
func (e Engine) Apply(ctx context.Context, cluster Cluster, grant Grant, previous *Grant) error {
	grant = grant.Normalized()
	if err := checkCluster(ctx, cluster, grant); err != nil {
		return err
	}
	if err := e.applyRealmAndClaim(ctx, grant, previous); err != nil {
		return fmt.Errorf("cannot apply grant %s in Keycloak: %w", grant.ID(), err)
	}
	if err := applyBindings(ctx, cluster, grant); err != nil {
		return fmt.Errorf("cannot bind grant %s in cluster %q: %w", grant.ID(), grant.Cluster, err)
	}
	return nil
}

func (e Engine) applyRealmAndClaim(ctx context.Context, grant Grant, previous *Grant) error {
	claimLock.Lock()
	defer claimLock.Unlock()
	if err := e.applyRealm(ctx, grant, previous); err != nil {
		return err
	}
	_, err := e.Realm.EnsureGroupsClaim(ctx, e.LoginClient)
	return err
}

func checkCluster(ctx context.Context, cluster Cluster, grant Grant) error {
	exists, err := cluster.ClusterRoleExists(ctx, grant.Role)
	if err != nil {
		return err
	}
	if !exists {
		return fmt.Errorf("%w: %q", ErrRoleMissing, grant.Role)
	}
	for _, namespace := range grant.Namespaces {
		exists, err := cluster.NamespaceExists(ctx, namespace)
		if err != nil {
			return err
		}
		if !exists {
			return fmt.Errorf("%w: %q", ErrNamespaceMissing, namespace)
		}
	}
	return nil
}

func (e Engine) applyRealm(ctx context.Context, grant Grant, previous *Grant) error {
	defer lockGroup(grant.Group)()
	group, err := e.ensureGroup(ctx, grant)
	if err != nil {
		return err
	}
	entries := grantEntries(group)
	if mine, ok := entries[grant.Name()]; ok && !mine.Expired && mine.Role != grant.Role && (previous == nil || previous.Role != mine.Role) {
		// Another configuration (a second workspace, a copy of the resource) applies the same grant
		// ID: the two would undo each other's role at every apply.
		return fmt.Errorf("%w: %s is applied elsewhere with role %q", ErrGrantTaken, grant.ID(), mine.Role)
	}
	delete(entries, grant.Name())
	for _, username := range grant.Members {
		user, found, err := e.Realm.FindUser(ctx, username)
		if err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("%w: %q", ErrUserMissing, username)
		}
		if err := e.Realm.AddMember(ctx, group.ID, user.ID); err != nil {
			return err
		}
	}
	if previous != nil {
		if err := e.removeMembers(ctx, group, without(previous.Members, grant.Members), entries); err != nil {
			return err
		}
	}
	entries[grant.Name()] = grantEntry{Role: grant.Role, ManageGroup: grant.ManageGroup, Members: grant.Members}
	return e.writeEntries(ctx, group, entries)
}

func (e Engine) ensureGroup(ctx context.Context, grant Grant) (keycloak.Group, error) {
	group, found, err := e.Realm.FindGroup(ctx, grant.Group)
	if err != nil || found {
		return group, err
	}
	if !grant.ManageGroup {
		return keycloak.Group{}, fmt.Errorf("%w: %q (manage_group is false)", ErrGroupMissing, grant.Group)
	}
	group, err = e.Realm.CreateGroup(ctx, grant.Group, map[string][]string{attributeCreatedBy: {ManagedBy}})
	if errors.Is(err, keycloak.ErrConflict) {
		// Another process created it in between.
		group, found, err = e.Realm.FindGroup(ctx, grant.Group)
		if err == nil && !found {
			err = fmt.Errorf("group %q was created and is gone again", grant.Group)
		}
	}
	return group, err
}

// removeMembers takes usernames out of the group and logs them out, except those another grant of the
// group (others) still lists.
func (e Engine) removeMembers(ctx context.Context, group keycloak.Group, usernames []string, others map[string]grantEntry) error {
	for _, username := range usernames {
		if listedByAny(others, username) {
			continue
		}
		user, found, err := e.Realm.FindUser(ctx, username)
		if err != nil {
			return err
		}
		if !found {
			continue
		}
		if err := e.Realm.RemoveMember(ctx, group.ID, user.ID); err != nil {
			return err
		}
		// A removed member's tokens still name the group until they expire; ending the sessions stops
		// kubelogin from refreshing them.
		if err := e.Realm.LogoutUser(ctx, user.ID); err != nil {
			return err
		}
	}
	return nil
}

func listedByAny(entries map[string]grantEntry, username string) bool {
	for _, entry := range entries {
		if !entry.Expired && slices.Contains(entry.Members, username) {
			return true
		}
	}
	return false
}

func (e Engine) writeEntries(ctx context.Context, group keycloak.Group, entries map[string]grantEntry) error {
	attributes := map[string][]string{}
	for key, values := range group.Attributes {
		if !strings.HasPrefix(key, attributeGrantPrefix) && key != attributeHasGrants {
			attributes[key] = values
		}
	}
	for name, entry := range entries {
		attributes[attributeGrantPrefix+name] = entry.values()
	}
	if len(entries) > 0 {
		attributes[attributeHasGrants] = []string{"true"}
	}
	group.Attributes = attributes
	return e.Realm.SetGroupAttributes(ctx, group)
}

func grantEntries(group keycloak.Group) map[string]grantEntry {
	entries := map[string]grantEntry{}
	for key, values := range group.Attributes {
		name, ok := strings.CutPrefix(key, attributeGrantPrefix)
		if !ok || len(values) == 0 {
			continue
		}
		entries[name] = parseEntry(values)
	}
	return entries
}

// desiredBindings are the bindings a grant makes.
func desiredBindings(grant Grant) []kube.Binding {
	labels := map[string]string{LabelManagedBy: ManagedBy, LabelAccess: grant.Group, LabelGrant: grant.Name()}
	annotations := map[string]string{AnnotationGrant: grant.ID()}
	binding := kube.Binding{Name: grant.BindingName(), Role: grant.Role, Groups: []string{grant.Subject()}}
	if len(grant.Namespaces) == 0 {
		binding.Labels, binding.Annotations = labels, annotations
		return []kube.Binding{binding}
	}
	bindings := make([]kube.Binding, 0, len(grant.Namespaces))
	for _, namespace := range grant.Namespaces {
		b := binding
		b.Namespace, b.Labels, b.Annotations = namespace, maps.Clone(labels), maps.Clone(annotations)
		bindings = append(bindings, b)
	}
	return bindings
}

// DesiredBindings are the namespace and name of each binding the grant makes, in order.
func DesiredBindings(grant Grant) []kube.Binding { return desiredBindings(grant.Normalized()) }

func applyBindings(ctx context.Context, cluster Cluster, grant Grant) error {
	desired := desiredBindings(grant)
	// A binding of the same name made for the group by another grant (an overlapping scope) is not
	// taken over: two grants would fight over it.
	existing, err := cluster.Bindings(ctx, LabelAccess+"="+grant.Group)
	if err != nil {
		return err
	}
	for _, want := range desired {
		for _, have := range existing {
			if have.Namespace == want.Namespace && have.Name == want.Name && have.Labels[LabelGrant] != grant.Name() {
				return fmt.Errorf("%w: %s is bound by grant %q", ErrBindingTaken, kube.BindingRef(have.Namespace, have.Name), have.Annotations[AnnotationGrant])
			}
		}
	}
	for _, binding := range desired {
		if err := cluster.ApplyBinding(ctx, binding); err != nil {
			return err
		}
	}
	for _, have := range existing {
		if have.Labels[LabelGrant] == grant.Name() && !containsBinding(desired, have) {
			if err := cluster.DeleteBinding(ctx, have.Namespace, have.Name); err != nil {
				return err
			}
		}
	}
	return nil
}

func containsBinding(bindings []kube.Binding, b kube.Binding) bool {
	return slices.ContainsFunc(bindings, func(x kube.Binding) bool { return x.Namespace == b.Namespace && x.Name == b.Name })
}

// Observed is what a grant finds of itself in the realm and the cluster.
type Observed struct {
	// GroupFound is false when the group is gone; Members and Entry are then empty.
	GroupFound bool
	// Members are the grant's listed members that are in the group.
	Members []string
	// Recorded is the grant's bookkeeping on the group: the role and members it was applied with.
	Recorded *Grant
	// Expired is set when the access controller revoked the grant at its expiry.
	Expired bool
	// ClaimMissing is set when the login client's tokens no longer carry the groups claim, without
	// which no binding of a group applies.
	ClaimMissing bool
	// Bindings are the bindings labelled as the grant's, in the cluster.
	Bindings []kube.Binding
}

// Observe reads what the grant has: its group, which of its members are in it, and its bindings.
func (e Engine) Observe(ctx context.Context, cluster Cluster, grant Grant) (Observed, error) {
	grant = grant.Normalized()
	var observed Observed
	bindings, err := cluster.Bindings(ctx, LabelGrant+"="+grant.Name())
	if err != nil {
		return observed, err
	}
	observed.Bindings = bindings
	group, found, err := e.Realm.FindGroup(ctx, grant.Group)
	if err != nil || !found {
		return observed, err
	}
	observed.GroupFound = true
	if entry, ok := grantEntries(group)[grant.Name()]; ok {
		recorded := grant
		recorded.Role, recorded.Members, recorded.ManageGroup, observed.Expired = entry.Role, entry.Members, entry.ManageGroup, entry.Expired
		observed.Recorded = &recorded
	}
	members, err := e.Realm.GroupMembers(ctx, group.ID)
	if err != nil {
		return observed, err
	}
	claim, err := e.Realm.HasGroupsClaim(ctx, e.LoginClient)
	if err != nil {
		return observed, err
	}
	observed.ClaimMissing = !claim
	for _, member := range members {
		if slices.Contains(grant.Members, member.Username) {
			observed.Members = append(observed.Members, member.Username)
		}
	}
	slices.Sort(observed.Members)
	return observed, nil
}

// Revoke takes away what the grant gave: its bindings in the cluster (cluster nil: the cluster is
// gone), and the members only it manages from the group, whose Keycloak sessions it logs out. With
// deleteGroup (a destroy) it also drops the grant's bookkeeping on the group, the group itself when a
// grant created it and no grant uses it any more, and the groups claim mapper when the provider added
// it and no grant is left in the realm. Without (an expiry) the bookkeeping stays, marked expired.
func (e Engine) Revoke(ctx context.Context, cluster Cluster, grant Grant, deleteGroup bool) error {
	grant = grant.Normalized()
	if cluster != nil {
		bindings, err := cluster.Bindings(ctx, LabelGrant+"="+grant.Name())
		if err != nil {
			return fmt.Errorf("cannot find the bindings of grant %s: %w", grant.ID(), err)
		}
		for _, binding := range bindings {
			if err := cluster.DeleteBinding(ctx, binding.Namespace, binding.Name); err != nil {
				return fmt.Errorf("cannot delete the bindings of grant %s: %w", grant.ID(), err)
			}
		}
	}
	if err := e.revokeRealm(ctx, grant, deleteGroup); err != nil {
		return fmt.Errorf("cannot revoke grant %s in Keycloak: %w", grant.ID(), err)
	}
	if !deleteGroup {
		return nil
	}
	claimLock.Lock()
	defer claimLock.Unlock()
	remaining, err := e.Realm.GroupsWithAttribute(ctx, attributeHasGrants, "true")
	if err != nil {
		return fmt.Errorf("cannot tell whether grants are left in Keycloak: %w", err)
	}
	if len(remaining) == 0 {
		if _, err := e.Realm.RemoveGroupsClaim(ctx, e.LoginClient); err != nil {
			return err
		}
	}
	return nil
}

func (e Engine) revokeRealm(ctx context.Context, grant Grant, deleteGroup bool) error {
	defer lockGroup(grant.Group)()
	group, found, err := e.Realm.FindGroup(ctx, grant.Group)
	if err != nil || !found {
		return err
	}
	entries := grantEntries(group)
	entry, hadEntry := entries[grant.Name()]
	if !deleteGroup && (!hadEntry || entry.Expired) {
		// An expiry acts only on what the grant's own bookkeeping says it gave, once: a record in the
		// management cluster cannot make the controller remove anyone else from a group.
		return nil
	}
	delete(entries, grant.Name())
	members := entry.Members
	if deleteGroup {
		members = sortedUnique(append(slices.Clone(grant.Members), entry.Members...))
	}
	if err := e.removeMembers(ctx, group, members, entries); err != nil {
		return err
	}
	if !deleteGroup {
		entry.Expired = true
		entries[grant.Name()] = entry
		return e.writeEntries(ctx, group, entries)
	}
	// A team's group stays while the team does, whoever created it.
	if len(entries) == 0 && slices.Contains(group.Attributes[attributeCreatedBy], ManagedBy) && len(group.Attributes[attributeTeam]) == 0 {
		return e.Realm.DeleteGroup(ctx, group.ID)
	}
	return e.writeEntries(ctx, group, entries)
}

func without(values, remove []string) []string {
	var out []string
	for _, v := range values {
		if !slices.Contains(remove, v) {
			out = append(out, v)
		}
	}
	return out
}
