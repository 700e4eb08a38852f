package keycloak

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/Nerzal/gocloak/v13"
	"github.com/go-resty/resty/v2"
)

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

// ErrConflict is returned when Keycloak refuses to create an object because one of that name exists.
var ErrConflict = errors.New("already exists")

// pageSize is how many objects one listing request asks for. Keycloak answers a listing without
// first/max with at most 100 members or users, so every listing pages until a short page.
const pageSize = 100

// groupRepresentation is the part of Keycloak's GroupRepresentation the provider reads. gocloak's
// Group lacks parentId, which tells a top-level group from a sub-group of the same name.
type groupRepresentation struct {
	ID         string              `json:"id,omitempty"`
	Name       string              `json:"name"`
	ParentID   string              `json:"parentId,omitempty"`
	Attributes map[string][]string `json:"attributes"`
}

type userRepresentation struct {
	ID       string `json:"id"`
	Username string `json:"username"`
}

func (g groupRepresentation) group() Group {
	return Group{ID: g.ID, Name: g.Name, Attributes: g.Attributes}
}

// FindGroup returns the top-level group with exactly this name, with its attributes.
func (c *Client) FindGroup(ctx context.Context, name string) (Group, bool, error) {
	// Even with exact=true the answer holds sub-groups of that name, so only a top-level group whose
	// name is equal counts; Keycloak's exact match is case-sensitive, as is this comparison.
	groups, err := c.listGroups(ctx, map[string]string{"search": name, "exact": "true"})
	if err != nil {
		return Group{}, false, fmt.Errorf("cannot look up group %q in realm %q: %w", name, c.cfg.Realm, err)
	}
	for _, g := range groups {
		if g.ParentID == "" && g.Name == name {
			return g.group(), true, nil
		}
	}
	return Group{}, false, nil
}

// Groups returns the realm's top-level groups, with their attributes.
func (c *Client) Groups(ctx context.Context) ([]Group, error) {
	// Without a query Keycloak lists the top-level groups.
	groups, err := c.listGroups(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("cannot list the groups of realm %q: %w", c.cfg.Realm, err)
	}
	var top []Group
	for _, g := range groups {
		if g.ParentID == "" {
			top = append(top, g.group())
		}
	}
	return top, nil
}

// GroupsWithAttribute returns the top-level groups whose attribute key has value among its values.
func (c *Client) GroupsWithAttribute(ctx context.Context, key, value string) ([]Group, error) {
	// Without a query Keycloak lists the top-level groups, which are then all looked at here.
	var query map[string]string
	if searchable(key, value) {
		query = map[string]string{"q": searchQuery(key, value)}
	}
	groups, err := c.listGroups(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("cannot look up the groups with attribute %s=%q in realm %q: %w", key, value, c.cfg.Realm, err)
	}
	// Keycloak compares the value exactly, but the answer also holds sub-groups; the check is repeated
	// here so that a looser Keycloak cannot hand out a group that merely resembles the one asked for.
	var found []Group
	for _, g := range groups {
		if g.ParentID == "" && slices.Contains(g.Attributes[key], value) {
			found = append(found, g.group())
		}
	}
	return found, nil
}

// searchQuery is the q parameter that selects groups by one attribute. Keycloak splits q at spaces
// into key:value pairs and reads a key or value between double quotes literally, but for \" which is a
// quote; both are always quoted, so that a space or a colon in the value does not split them.
func searchQuery(key, value string) string {
	quote := func(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }
	return quote(key) + ":" + quote(value)
}

// searchable says whether q can select the attribute: Keycloak 26 finds nothing for a key with a
// colon, even quoted, and a backslash cannot be escaped, so one before the closing quote escapes it.
func searchable(key, value string) bool {
	return !strings.Contains(key, ":") && !strings.Contains(key+value, `\`)
}

// listGroups pages through GET /groups. populateHierarchy=false makes Keycloak answer with the groups
// that match themselves; by default it answers with their top-level ancestors instead, which for a
// matching sub-group is a group that does not match at all.
func (c *Client) listGroups(ctx context.Context, query map[string]string) ([]groupRepresentation, error) {
	token, err := c.accessToken(ctx)
	if err != nil {
		return nil, err
	}
	var all []groupRepresentation
	for first := 0; ; first += pageSize {
		var page []groupRepresentation
		err := c.call(ctx, func(ctx context.Context) error {
			return answer(c.api.GetRequestWithBearerAuth(ctx, token).
				SetQueryParams(query).
				SetQueryParams(map[string]string{
					"briefRepresentation": "false", "populateHierarchy": "false",
					"first": strconv.Itoa(first), "max": strconv.Itoa(pageSize),
				}).
				SetResult(&page).
				Get(c.adminURL("groups")))
		})
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if len(page) < pageSize {
			return all, nil
		}
	}
}

// CreateGroup creates a top-level group; a group of that name is reported with ErrConflict.
func (c *Client) CreateGroup(ctx context.Context, name string, attributes map[string][]string) (Group, error) {
	token, err := c.accessToken(ctx)
	if err != nil {
		return Group{}, err
	}
	// Keycloak does not keep an attribute without values; neither does the group returned here.
	kept := map[string][]string{}
	for k, v := range attributes {
		if len(v) > 0 {
			kept[k] = slices.Clone(v)
		}
	}
	var resp *resty.Response
	err = c.call(ctx, func(ctx context.Context) (err error) {
		resp, err = c.api.GetRequestWithBearerAuth(ctx, token).
			SetBody(groupRepresentation{Name: name, Attributes: kept}).
			Post(c.adminURL("groups"))
		return answer(resp, err)
	})
	if status(err) == http.StatusConflict {
		return Group{}, fmt.Errorf("cannot create group %q in realm %q: %w: %w", name, c.cfg.Realm, ErrConflict, err)
	}
	if err != nil {
		return Group{}, fmt.Errorf("cannot create group %q in realm %q: %w", name, c.cfg.Realm, err)
	}
	// The new group's ID is the last segment of the Location Keycloak answers with.
	location := resp.Header().Get("Location")
	id, err := url.PathUnescape(location[strings.LastIndex(location, "/")+1:])
	if err != nil || id == "" {
		return Group{}, fmt.Errorf("cannot create group %q in realm %q: Keycloak answered without the new group's location (%q)", name, c.cfg.Realm, location)
	}
	return Group{ID: id, Name: name, Attributes: kept}, nil
}

// SetGroupAttributes replaces the attributes of group.ID with group.Attributes; the group keeps the
// name it has in Keycloak.
func (c *Client) SetGroupAttributes(ctx context.Context, group Group) error {
	token, err := c.accessToken(ctx)
	if err != nil {
		return err
	}
	// A PUT without a name is refused and one with another name renames the group, so the name is
	// read first rather than taken from the caller.
	var current groupRepresentation
	err = c.call(ctx, func(ctx context.Context) error {
		return answer(c.api.GetRequestWithBearerAuth(ctx, token).SetResult(&current).Get(c.adminURL("groups", group.ID)))
	})
	if err != nil {
		return fmt.Errorf("cannot read group %s in realm %q: %w", group.ID, c.cfg.Realm, err)
	}
	// Keycloak keeps the attributes when the PUT has none, and replaces them when it has a map, so
	// the map is sent even when it is empty.
	attributes := map[string][]string{}
	for k, v := range group.Attributes {
		if len(v) > 0 {
			attributes[k] = v
		}
	}
	err = c.call(ctx, func(ctx context.Context) error {
		return answer(c.api.GetRequestWithBearerAuth(ctx, token).
			SetBody(groupRepresentation{Name: current.Name, Attributes: attributes}).
			Put(c.adminURL("groups", group.ID)))
	})
	if err != nil {
		return fmt.Errorf("cannot set the attributes of group %q in realm %q: %w", current.Name, c.cfg.Realm, err)
	}
	return nil
}

// DeleteGroup deletes a group; a group that does not exist is not an error.
func (c *Client) DeleteGroup(ctx context.Context, groupID string) error {
	err := c.send(ctx, http.MethodDelete, "groups", groupID)
	if err != nil && status(err) != http.StatusNotFound {
		return fmt.Errorf("cannot delete group %s in realm %q: %w", groupID, c.cfg.Realm, err)
	}
	return nil
}

// GroupMembers returns all direct members of a group.
func (c *Client) GroupMembers(ctx context.Context, groupID string) ([]User, error) {
	token, err := c.accessToken(ctx)
	if err != nil {
		return nil, err
	}
	var members []User
	for first := 0; ; first += pageSize {
		var page []userRepresentation
		err := c.call(ctx, func(ctx context.Context) error {
			return answer(c.api.GetRequestWithBearerAuth(ctx, token).
				SetQueryParams(map[string]string{
					"briefRepresentation": "true", "first": strconv.Itoa(first), "max": strconv.Itoa(pageSize),
				}).
				SetResult(&page).
				Get(c.adminURL("groups", groupID, "members")))
		})
		if err != nil {
			return nil, fmt.Errorf("cannot list the members of group %s in realm %q: %w", groupID, c.cfg.Realm, err)
		}
		for _, u := range page {
			members = append(members, User(u))
		}
		if len(page) < pageSize {
			return members, nil
		}
	}
}

// UserGroups returns the names of the groups a user is a direct member of, as the groups claim
// (without full paths) carries them.
func (c *Client) UserGroups(ctx context.Context, userID string) ([]string, error) {
	token, err := c.accessToken(ctx)
	if err != nil {
		return nil, err
	}
	var names []string
	for first := 0; ; first += pageSize {
		var page []groupRepresentation
		err := c.call(ctx, func(ctx context.Context) error {
			return answer(c.api.GetRequestWithBearerAuth(ctx, token).
				SetQueryParams(map[string]string{
					"briefRepresentation": "true", "first": strconv.Itoa(first), "max": strconv.Itoa(pageSize),
				}).
				SetResult(&page).
				Get(c.adminURL("users", userID, "groups")))
		})
		if err != nil {
			return nil, fmt.Errorf("cannot list the groups of user %s in realm %q: %w", userID, c.cfg.Realm, err)
		}
		for _, g := range page {
			names = append(names, g.Name)
		}
		if len(page) < pageSize {
			return names, nil
		}
	}
}

// FindUser returns the user with this username. Keycloak keeps usernames in lower case and matches
// them regardless of case, so "Alice" finds the user "alice", who is returned with that username.
func (c *Client) FindUser(ctx context.Context, username string) (User, bool, error) {
	token, err := c.accessToken(ctx)
	if err != nil {
		return User{}, false, err
	}
	var users []userRepresentation
	err = c.call(ctx, func(ctx context.Context) error {
		return answer(c.api.GetRequestWithBearerAuth(ctx, token).
			SetQueryParams(map[string]string{"username": username, "exact": "true", "briefRepresentation": "true"}).
			SetResult(&users).
			Get(c.adminURL("users")))
	})
	if err != nil {
		return User{}, false, fmt.Errorf("cannot look up user %q in realm %q: %w", username, c.cfg.Realm, err)
	}
	for _, u := range users {
		if strings.EqualFold(u.Username, username) {
			return User(u), true, nil
		}
	}
	return User{}, false, nil
}

// AddMember makes a user a member of a group; adding a member again changes nothing.
func (c *Client) AddMember(ctx context.Context, groupID, userID string) error {
	if err := c.send(ctx, http.MethodPut, "users", userID, "groups", groupID); err != nil {
		return fmt.Errorf("cannot add user %s to group %s in realm %q: %w", userID, groupID, c.cfg.Realm, err)
	}
	return nil
}

// RemoveMember removes a user from a group. A user who is not a member, and a user or group that no
// longer exists, is not an error: in each case the user is not a member afterwards.
func (c *Client) RemoveMember(ctx context.Context, groupID, userID string) error {
	err := c.send(ctx, http.MethodDelete, "users", userID, "groups", groupID)
	if err != nil && status(err) != http.StatusNotFound {
		return fmt.Errorf("cannot remove user %s from group %s in realm %q: %w", userID, groupID, c.cfg.Realm, err)
	}
	return nil
}

// LogoutUser ends all sessions of a user. Keycloak also refuses from then on the refresh tokens,
// offline ones too, that it issued to the user before, to the second; tokens issued already stay
// valid until they expire, and a refresh in the same second still succeeds, so a caller takes users
// out of a group before it logs them out. A user that no longer exists has no sessions: not an error.
func (c *Client) LogoutUser(ctx context.Context, userID string) error {
	err := c.send(ctx, http.MethodPost, "users", userID, "logout")
	if err != nil && status(err) != http.StatusNotFound {
		return fmt.Errorf("cannot log out user %s in realm %q: %w", userID, c.cfg.Realm, err)
	}
	return nil
}

// send makes one request without a body to the admin API path of the segments.
func (c *Client) send(ctx context.Context, method string, segments ...string) error {
	token, err := c.accessToken(ctx)
	if err != nil {
		return err
	}
	return c.call(ctx, func(ctx context.Context) error {
		return answer(c.api.GetRequestWithBearerAuth(ctx, token).Execute(method, c.adminURL(segments...)))
	})
}

// adminURL is the admin API URL of the managed realm's path of the segments, each path-escaped: the
// segments are names and IDs the provider was given, and gocloak would join them as they are.
func (c *Client) adminURL(segments ...string) string {
	var b strings.Builder
	b.WriteString(strings.TrimRight(c.cfg.URL, "/"))
	b.WriteString("/admin/realms/")
	b.WriteString(url.PathEscape(c.cfg.Realm))
	for _, s := range segments {
		b.WriteString("/")
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}

// answer turns a failed request or an error status into an error, like gocloak does for its own
// requests, so that status can read the code either way.
func answer(resp *resty.Response, err error) error {
	if err != nil {
		return err
	}
	if !resp.IsError() {
		return nil
	}
	msg := resp.Status()
	if e, ok := resp.Error().(*gocloak.HTTPErrorResponse); ok && e.NotEmpty() {
		msg += ": " + e.String()
	}
	return &gocloak.APIError{Code: resp.StatusCode(), Message: msg}
}

// status is the HTTP status Keycloak answered a failed request with, or 0 when it did not answer.
func status(err error) int {
	var apiErr *gocloak.APIError
	if errors.As(err, &apiErr) {
		return apiErr.Code
	}
	return 0
}
