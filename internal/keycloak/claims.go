package keycloak

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
)

// ErrNoClient is returned when the realm has no client with the given client_id.
var ErrNoClient = errors.New("no such client")

const groupMembershipMapper = "oidc-group-membership-mapper"

// clientRepresentation is the part of Keycloak's ClientRepresentation the groups claim depends on.
type clientRepresentation struct {
	ID                  string                 `json:"id"`
	ClientID            string                 `json:"clientId"`
	ProtocolMappers     []mapperRepresentation `json:"protocolMappers"`
	DefaultClientScopes []string               `json:"defaultClientScopes"`
}

type mapperRepresentation struct {
	ID             string            `json:"id,omitempty"`
	Name           string            `json:"name"`
	Protocol       string            `json:"protocol"`
	ProtocolMapper string            `json:"protocolMapper"`
	Config         map[string]string `json:"config"`
}

type clientScopeRepresentation struct {
	Name            string                 `json:"name"`
	ProtocolMappers []mapperRepresentation `json:"protocolMappers"`
}

// putsGroupsClaim says whether a mapper puts the names of the user's groups into the ID token's
// "groups" claim, as workload clusters read them: by name, not by path ("/name"), since a grant binds
// "oidc:<name>". Keycloak reads a missing id.token.claim or full.path as false.
func putsGroupsClaim(m mapperRepresentation) bool {
	return m.ProtocolMapper == groupMembershipMapper && m.Config["claim.name"] == "groups" &&
		m.Config["id.token.claim"] == "true" && m.Config["full.path"] != "true"
}

// groupsClaimMapper is the mapper the provider adds when the client's tokens lack the groups claim.
func groupsClaimMapper() mapperRepresentation {
	return mapperRepresentation{
		Name:           GroupsClaimMapper,
		Protocol:       "openid-connect",
		ProtocolMapper: groupMembershipMapper,
		Config: map[string]string{
			"claim.name":           "groups",
			"full.path":            "false",
			"id.token.claim":       "true",
			"access.token.claim":   "true",
			"userinfo.token.claim": "true",
		},
	}
}

// HasGroupsClaim says whether the tokens of the client with this client_id carry the groups claim: a
// mapper of the client's own, or of one of its default client scopes, puts it there.
func (c *Client) HasGroupsClaim(ctx context.Context, clientID string) (bool, error) {
	client, err := c.findClient(ctx, clientID)
	if err != nil {
		return false, fmt.Errorf("cannot read the mappers of client %q in realm %q: %w", clientID, c.cfg.Realm, err)
	}
	has, err := c.hasGroupsClaim(ctx, client)
	if err != nil {
		return false, fmt.Errorf("cannot read the mappers of client %q in realm %q: %w", clientID, c.cfg.Realm, err)
	}
	return has, nil
}

// EnsureGroupsClaim adds the GroupsClaimMapper to the client with this client_id unless its tokens
// carry the groups claim already; added says whether it did.
func (c *Client) EnsureGroupsClaim(ctx context.Context, clientID string) (bool, error) {
	wrap := func(err error) error {
		return fmt.Errorf("cannot add the groups claim to client %q in realm %q: %w", clientID, c.cfg.Realm, err)
	}
	client, err := c.findClient(ctx, clientID)
	if err != nil {
		return false, wrap(err)
	}
	has, err := c.hasGroupsClaim(ctx, client)
	if err != nil {
		return false, wrap(err)
	}
	if has {
		return false, nil
	}
	token, err := c.accessToken(ctx)
	if err != nil {
		return false, wrap(err)
	}
	mapper := groupsClaimMapper()
	// A mapper of that name that does not put the claim as needed (edited since it was added) is the
	// provider's own: it is set back, as Keycloak refuses a second mapper of the same name.
	if i := slices.IndexFunc(client.ProtocolMappers, func(m mapperRepresentation) bool { return m.Name == GroupsClaimMapper }); i >= 0 {
		mapper.ID = client.ProtocolMappers[i].ID
		err = c.call(ctx, func(ctx context.Context) error {
			return answer(c.api.GetRequestWithBearerAuth(ctx, token).SetBody(mapper).
				Put(c.adminURL("clients", client.ID, "protocol-mappers", "models", mapper.ID)))
		})
		if err != nil {
			return false, wrap(err)
		}
		return true, nil
	}
	err = c.call(ctx, func(ctx context.Context) error {
		return answer(c.api.GetRequestWithBearerAuth(ctx, token).SetBody(mapper).
			Post(c.adminURL("clients", client.ID, "protocol-mappers", "models")))
	})
	if status(err) == http.StatusConflict {
		// Another grant added it in the meantime.
		if client, err := c.findClient(ctx, clientID); err == nil && slices.ContainsFunc(client.ProtocolMappers, putsGroupsClaim) {
			return false, nil
		}
	}
	if err != nil {
		return false, wrap(err)
	}
	return true, nil
}

// RemoveGroupsClaim deletes the GroupsClaimMapper from the client with this client_id, and no other
// mapper; removed says whether there was one.
func (c *Client) RemoveGroupsClaim(ctx context.Context, clientID string) (bool, error) {
	wrap := func(err error) error {
		return fmt.Errorf("cannot remove mapper %q from client %q in realm %q: %w", GroupsClaimMapper, clientID, c.cfg.Realm, err)
	}
	client, err := c.findClient(ctx, clientID)
	if err != nil {
		return false, wrap(err)
	}
	i := slices.IndexFunc(client.ProtocolMappers, func(m mapperRepresentation) bool { return m.Name == GroupsClaimMapper })
	if i < 0 {
		return false, nil
	}
	err = c.send(ctx, http.MethodDelete, "clients", client.ID, "protocol-mappers", "models", client.ProtocolMappers[i].ID)
	if status(err) == http.StatusNotFound {
		return false, nil
	}
	if err != nil {
		return false, wrap(err)
	}
	return true, nil
}

// findClient returns the client with this client_id, with its mappers and default client scopes.
func (c *Client) findClient(ctx context.Context, clientID string) (clientRepresentation, error) {
	token, err := c.accessToken(ctx)
	if err != nil {
		return clientRepresentation{}, err
	}
	var clients []clientRepresentation
	err = c.call(ctx, func(ctx context.Context) error {
		return answer(c.api.GetRequestWithBearerAuth(ctx, token).
			SetQueryParam("clientId", clientID).
			SetResult(&clients).
			Get(c.adminURL("clients")))
	})
	if err != nil {
		return clientRepresentation{}, err
	}
	for _, client := range clients {
		if client.ClientID == clientID {
			return client, nil
		}
	}
	return clientRepresentation{}, ErrNoClient
}

// hasGroupsClaim looks for a mapper that puts the groups claim among the client's own mappers and
// those of its default client scopes, which apply to every token of the client. Optional client
// scopes apply only when a login asks for them, so they do not count.
func (c *Client) hasGroupsClaim(ctx context.Context, client clientRepresentation) (bool, error) {
	if slices.ContainsFunc(client.ProtocolMappers, putsGroupsClaim) {
		return true, nil
	}
	if len(client.DefaultClientScopes) == 0 {
		return false, nil
	}
	token, err := c.accessToken(ctx)
	if err != nil {
		return false, err
	}
	var scopes []clientScopeRepresentation
	err = c.call(ctx, func(ctx context.Context) error {
		return answer(c.api.GetRequestWithBearerAuth(ctx, token).SetResult(&scopes).Get(c.adminURL("client-scopes")))
	})
	if err != nil {
		return false, err
	}
	for _, scope := range scopes {
		if slices.Contains(client.DefaultClientScopes, scope.Name) && slices.ContainsFunc(scope.ProtocolMappers, putsGroupsClaim) {
			return true, nil
		}
	}
	return false, nil
}
