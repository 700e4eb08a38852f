package access

import (
	"context"

	"github.com/idp-platform/terraform-provider-idp/internal/keycloak"
	"github.com/idp-platform/terraform-provider-idp/internal/kube"
)

// Realm is what a grant needs of Keycloak; *keycloak.Client implements it.
type Realm interface {
	FindGroup(ctx context.Context, name string) (keycloak.Group, bool, error)
	CreateGroup(ctx context.Context, name string, attributes map[string][]string) (keycloak.Group, error)
	SetGroupAttributes(ctx context.Context, group keycloak.Group) error
	DeleteGroup(ctx context.Context, groupID string) error
	GroupMembers(ctx context.Context, groupID string) ([]keycloak.User, error)
	FindUser(ctx context.Context, username string) (keycloak.User, bool, error)
	AddMember(ctx context.Context, groupID, userID string) error
	RemoveMember(ctx context.Context, groupID, userID string) error
	LogoutUser(ctx context.Context, userID string) error
	GroupsWithAttribute(ctx context.Context, key, value string) ([]keycloak.Group, error)
	EnsureGroupsClaim(ctx context.Context, clientID string) (added bool, err error)
	RemoveGroupsClaim(ctx context.Context, clientID string) (removed bool, err error)
	HasGroupsClaim(ctx context.Context, clientID string) (bool, error)
}

// Cluster is what a grant needs of a workload cluster; *kube.Client implements it.
type Cluster interface {
	ApplyBinding(ctx context.Context, binding kube.Binding) error
	Bindings(ctx context.Context, labelSelector string) ([]kube.Binding, error)
	DeleteBinding(ctx context.Context, namespace, name string) error
	ClusterRoleExists(ctx context.Context, name string) (bool, error)
	NamespaceExists(ctx context.Context, name string) (bool, error)
}
