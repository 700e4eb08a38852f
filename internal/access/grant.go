// Package access grants a Keycloak group a role on a platform cluster: the group and the members a
// grant manages in Keycloak, the RoleBindings or ClusterRoleBinding on the workload cluster that bind
// the group's OIDC subject to the role, and, for a time-bound grant, the AccessGrant record in the
// management cluster from which the access controller revokes the grant when it expires.
package access

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"time"
)

// Labels and annotations on what a grant makes in a workload cluster and the management cluster.
const (
	LabelManagedBy = "platform.idp.dev/managed-by"
	ManagedBy      = "terraform-provider-idp"
	// LabelAccess is the Keycloak group the binding grants to.
	LabelAccess = "platform.idp.dev/access"
	// LabelGrant is the grant's Name (label values cannot hold its ID's slashes).
	LabelGrant = "platform.idp.dev/grant"
	// LabelCluster is the grant's cluster, on its AccessGrant record: the same label the cluster's
	// add-on stacks carry, by which the kubeconfig secret they share is kept.
	LabelCluster = "platform.idp.dev/cluster"
	// AnnotationGrant is the grant's ID, cluster/group/scope.
	AnnotationGrant = "platform.idp.dev/grant-id"
)

// SubjectPrefix is what the platform's clusters put before the users and groups of Keycloak's tokens
// (their structured authentication's claim mappings).
const SubjectPrefix = "oidc:"

// ClusterScope is the scope of a cluster-wide grant.
const ClusterScope = "cluster"

// Grant is one idp_access: a role for a Keycloak group on a cluster, cluster-wide or in namespaces.
type Grant struct {
	Cluster string `json:"cluster"`
	Group   string `json:"group"`
	// Role is a ClusterRole of the workload cluster, bound cluster-wide or in each namespace.
	Role string `json:"role"`
	// Namespaces are sorted; empty means one ClusterRoleBinding.
	Namespaces []string `json:"namespaces,omitempty"`
	// Members are the usernames the grant manages in the group: it adds them, and removes them when
	// they leave the list unless another grant of the group still lists them.
	Members []string `json:"members,omitempty"`
	// ManageGroup lets the grant create the group when it is absent (and delete it with the last grant
	// that uses it, if a grant created it).
	ManageGroup bool `json:"manageGroup"`
	// ExpiresAt, when set, is when the access controller revokes the grant.
	ExpiresAt *time.Time `json:"expiresAt,omitempty"`
}

// Scope is the grant's scope in its ID: "cluster", or its namespaces joined by commas.
func (g Grant) Scope() string {
	if len(g.Namespaces) == 0 {
		return ClusterScope
	}
	return strings.Join(g.Namespaces, ",")
}

// ID is cluster/group/scope, the idp_access ID.
func (g Grant) ID() string { return g.Cluster + "/" + g.Group + "/" + g.Scope() }

// Name is a DNS-1123 name unique per grant ID: the AccessGrant record's name and the value of
// LabelGrant on the grant's bindings.
func (g Grant) Name() string {
	sum := sha256.Sum256([]byte(g.ID()))
	return "grant-" + hex.EncodeToString(sum[:])[:20]
}

// BindingName is the name of the grant's ClusterRoleBinding, or of its RoleBinding in each namespace.
func (g Grant) BindingName() string { return "idp:" + g.Group + ":" + g.Role }

// Subject is the group as the cluster sees it in a Keycloak token.
func (g Grant) Subject() string { return SubjectPrefix + g.Group }

// Normalized sorts and de-duplicates the grant's lists, so equal grants compare equal.
func (g Grant) Normalized() Grant {
	g.Namespaces = sortedUnique(g.Namespaces)
	g.Members = sortedUnique(g.Members)
	return g
}

func sortedUnique(values []string) []string {
	if len(values) == 0 {
		return nil
	}
	out := slices.Clone(values)
	slices.Sort(out)
	return slices.Compact(out)
}
