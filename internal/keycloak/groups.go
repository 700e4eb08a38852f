package keycloak

import "errors"

// Group is a top-level group of the managed realm.
type Group struct {
	ID         string
	Name       string
	Attributes map[string][]string
}

// User is a user of the managed realm.
type User struct {
	ID       string
	Username string
}

// GroupsClaimMapper is the name of the protocol mapper the provider adds to the cluster-login client
// when the client has no mapper that puts group membership into the "groups" claim.
const GroupsClaimMapper = "idp-groups"

// ErrConflict is returned when what is created exists already.
var ErrConflict = errors.New("keycloak: already exists")
