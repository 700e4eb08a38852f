package keycloak_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idp-platform/terraform-provider-idp/internal/access"
	"github.com/idp-platform/terraform-provider-idp/internal/keycloak"
)

// The engine reaches Keycloak through access.Realm; the client must keep implementing it.
var _ access.Realm = (*keycloak.Client)(nil)

// fakeRealm is an in-memory admin API of realm "idp". Where Keycloak's matching could be loose, the
// fake is as loose as Keycloak could be, so that the tests show the client checks what it is given:
// a name or attribute search matches substrings regardless of case and returns sub-groups too, and a
// client_id lookup returns every client whose client_id contains it.
type fakeRealm struct {
	mu        sync.Mutex
	groups    []fakeGroup
	users     []keycloak.User
	members   map[string][]string // group ID to user IDs
	clients   []fakeClient
	scopes    []fakeScope
	loggedOut []string
	requests  []request
	nextID    int
	t         *testing.T
}

type fakeGroup struct {
	ID         string              `json:"id"`
	Name       string              `json:"name"`
	ParentID   string              `json:"parentId,omitempty"`
	Attributes map[string][]string `json:"attributes,omitempty"`
}

type fakeClient struct {
	ID            string   `json:"id"`
	ClientID      string   `json:"clientId"`
	Mappers       []mapper `json:"protocolMappers,omitempty"`
	DefaultScopes []string `json:"defaultClientScopes,omitempty"`
}

type fakeScope struct {
	Name    string   `json:"name"`
	Mappers []mapper `json:"protocolMappers,omitempty"`
}

type mapper struct {
	ID             string            `json:"id,omitempty"`
	Name           string            `json:"name"`
	Protocol       string            `json:"protocol,omitempty"`
	ProtocolMapper string            `json:"protocolMapper"`
	Config         map[string]string `json:"config,omitempty"`
}

// request is an admin API request as the fake received it: the path still escaped.
type request struct {
	Method string
	Path   string
	Query  url.Values
}

// serve starts the fake and returns a client logged in to it.
func (f *fakeRealm) serve(t *testing.T) *keycloak.Client {
	t.Helper()
	f.t = t
	if f.members == nil {
		f.members = map[string][]string{}
	}
	server := httptest.NewServer(f)
	t.Cleanup(server.Close)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := keycloak.NewClient(ctx, keycloak.Config{URL: server.URL, Realm: "idp", AuthRealm: "idp",
		ClientID: "provider", ClientSecret: "s", RequestTimeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("NewClient(...): %v", err)
	}
	return c
}

func (f *fakeRealm) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/realms/idp/protocol/openid-connect/token" {
		writeJSON(w, http.StatusOK, map[string]any{"access_token": "token", "expires_in": 300, "token_type": "Bearer"})
		return
	}
	const prefix = "/admin/realms/idp/"
	path := r.URL.EscapedPath()
	if !strings.HasPrefix(path, prefix) || r.Header.Get("Authorization") != "Bearer token" {
		f.t.Errorf("unexpected request %s %s", r.Method, r.URL)
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unexpected request"})
		return
	}
	var segments []string
	for _, s := range strings.Split(strings.TrimPrefix(path, prefix), "/") {
		u, err := url.PathUnescape(s)
		if err != nil {
			f.t.Errorf("request path %q: %v", path, err)
		}
		segments = append(segments, u)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, request{Method: r.Method, Path: path, Query: r.URL.Query()})
	status, body := f.route(r, segments)
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	if location, ok := body.(created); ok {
		w.Header().Set("Location", string(location))
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if body != nil {
		_ = json.NewEncoder(w).Encode(body)
	}
}

// created is the answer to a POST that created an object: its location.
type created string

func notFound(what string) map[string]string { return map[string]string{"error": what + " not found"} }

func (f *fakeRealm) route(r *http.Request, s []string) (int, any) {
	q := r.URL.Query()
	switch {
	case r.Method == http.MethodGet && len(s) == 1 && s[0] == "groups":
		return http.StatusOK, f.searchGroups(q)
	case r.Method == http.MethodPost && len(s) == 1 && s[0] == "groups":
		var g fakeGroup
		if !f.decode(r, &g) {
			return http.StatusBadRequest, nil
		}
		if slices.ContainsFunc(f.groups, func(o fakeGroup) bool { return o.ParentID == "" && o.Name == g.Name }) {
			return http.StatusConflict, map[string]string{"errorMessage": "Top level group named '" + g.Name + "' already exists."}
		}
		g.ID = f.id("group")
		f.groups = append(f.groups, g)
		return http.StatusCreated, created("http://keycloak/admin/realms/idp/groups/" + url.PathEscape(g.ID))
	case len(s) == 2 && s[0] == "groups":
		i := slices.IndexFunc(f.groups, func(g fakeGroup) bool { return g.ID == s[1] })
		if i < 0 {
			return http.StatusNotFound, notFound("group")
		}
		switch r.Method {
		case http.MethodGet:
			return http.StatusOK, f.groups[i]
		case http.MethodPut:
			var g fakeGroup
			if !f.decode(r, &g) {
				return http.StatusBadRequest, nil
			}
			if g.Name == "" {
				return http.StatusBadRequest, map[string]string{"errorMessage": "Group name is missing"}
			}
			f.groups[i].Name = g.Name
			if g.Attributes != nil {
				f.groups[i].Attributes = g.Attributes
			}
			return http.StatusNoContent, nil
		case http.MethodDelete:
			f.groups = slices.Delete(f.groups, i, i+1)
			delete(f.members, s[1])
			return http.StatusNoContent, nil
		}
	case r.Method == http.MethodGet && len(s) == 3 && s[0] == "groups" && s[2] == "members":
		if !slices.ContainsFunc(f.groups, func(g fakeGroup) bool { return g.ID == s[1] }) {
			return http.StatusNotFound, notFound("group")
		}
		var members []keycloak.User
		for _, u := range f.users {
			if slices.Contains(f.members[s[1]], u.ID) {
				members = append(members, u)
			}
		}
		return http.StatusOK, userJSON(page(members, q, 100))
	case r.Method == http.MethodGet && len(s) == 1 && s[0] == "users":
		var users []keycloak.User
		for _, u := range f.users {
			name := q.Get("username")
			if q.Get("exact") == "true" && strings.EqualFold(u.Username, name) ||
				q.Get("exact") != "true" && strings.Contains(u.Username, strings.ToLower(name)) {
				users = append(users, u)
			}
		}
		return http.StatusOK, userJSON(page(users, q, 100))
	case len(s) == 4 && s[0] == "users" && s[2] == "groups":
		if !slices.ContainsFunc(f.users, func(u keycloak.User) bool { return u.ID == s[1] }) {
			return http.StatusNotFound, notFound("user")
		}
		if !slices.ContainsFunc(f.groups, func(g fakeGroup) bool { return g.ID == s[3] }) {
			return http.StatusNotFound, notFound("group")
		}
		members := f.members[s[3]]
		switch r.Method {
		case http.MethodPut:
			if !slices.Contains(members, s[1]) {
				f.members[s[3]] = append(members, s[1])
			}
			return http.StatusNoContent, nil
		case http.MethodDelete:
			f.members[s[3]] = slices.DeleteFunc(members, func(id string) bool { return id == s[1] })
			return http.StatusNoContent, nil
		}
	case r.Method == http.MethodPost && len(s) == 3 && s[0] == "users" && s[2] == "logout":
		if !slices.ContainsFunc(f.users, func(u keycloak.User) bool { return u.ID == s[1] }) {
			return http.StatusNotFound, notFound("user")
		}
		f.loggedOut = append(f.loggedOut, s[1])
		return http.StatusNoContent, nil
	case r.Method == http.MethodGet && len(s) == 1 && s[0] == "clients":
		var clients []fakeClient
		for _, c := range f.clients {
			if strings.Contains(c.ClientID, q.Get("clientId")) {
				clients = append(clients, c)
			}
		}
		return http.StatusOK, clients
	case r.Method == http.MethodGet && len(s) == 1 && s[0] == "client-scopes":
		return http.StatusOK, f.scopes
	case len(s) >= 4 && s[0] == "clients" && s[2] == "protocol-mappers" && s[3] == "models":
		i := slices.IndexFunc(f.clients, func(c fakeClient) bool { return c.ID == s[1] })
		if i < 0 {
			return http.StatusNotFound, notFound("client")
		}
		client := &f.clients[i]
		if r.Method == http.MethodPost && len(s) == 4 {
			var m mapper
			if !f.decode(r, &m) {
				return http.StatusBadRequest, nil
			}
			if slices.ContainsFunc(client.Mappers, func(o mapper) bool { return o.Name == m.Name }) {
				return http.StatusConflict, map[string]string{"errorMessage": "Protocol mapper exists with same name"}
			}
			m.ID = f.id("mapper")
			client.Mappers = append(client.Mappers, m)
			return http.StatusCreated, created("http://keycloak/" + m.ID)
		}
		if len(s) != 5 {
			break
		}
		j := slices.IndexFunc(client.Mappers, func(m mapper) bool { return m.ID == s[4] })
		if j < 0 {
			return http.StatusNotFound, notFound("mapper")
		}
		switch r.Method {
		case http.MethodPut:
			var m mapper
			if !f.decode(r, &m) {
				return http.StatusBadRequest, nil
			}
			m.ID = s[4]
			client.Mappers[j] = m
			return http.StatusNoContent, nil
		case http.MethodDelete:
			client.Mappers = slices.Delete(client.Mappers, j, j+1)
			return http.StatusNoContent, nil
		}
	}
	f.t.Errorf("unexpected request %s %s", r.Method, r.URL)
	return http.StatusBadRequest, map[string]string{"error": "unexpected request"}
}

// searchGroups answers GET /groups as loosely as Keycloak could.
func (f *fakeRealm) searchGroups(q url.Values) []fakeGroup {
	var matches []fakeGroup
	for _, g := range f.groups {
		switch {
		case q.Has("q"):
			key, value := parseSearchQuery(f.t, q.Get("q"))
			if slices.ContainsFunc(g.Attributes[key], func(v string) bool { return strings.EqualFold(v, value) }) {
				matches = append(matches, g)
			}
		case q.Has("search"):
			if strings.Contains(strings.ToLower(g.Name), strings.ToLower(q.Get("search"))) {
				matches = append(matches, g)
			}
		default:
			if g.ParentID == "" {
				matches = append(matches, g)
			}
		}
	}
	if q.Get("populateHierarchy") != "false" {
		// Keycloak's default: a matching sub-group is answered with its top-level ancestor.
		for i, g := range matches {
			for g.ParentID != "" {
				g = f.groups[slices.IndexFunc(f.groups, func(p fakeGroup) bool { return p.ID == g.ParentID })]
			}
			matches[i] = g
		}
	}
	if q.Get("briefRepresentation") != "false" {
		for i := range matches {
			matches[i].Attributes = nil
		}
	}
	return page(matches, q, len(matches))
}

// parseSearchQuery reads a q parameter of one "key":"value" pair, quoted as Keycloak reads it.
func parseSearchQuery(t *testing.T, q string) (key, value string) {
	var parts []string
	var b strings.Builder
	quoted, escaped := false, false
	for _, r := range q {
		switch {
		case escaped:
			b.WriteRune(r)
			escaped = false
		case quoted && r == '\\':
			escaped = true
		case r == '"':
			quoted = !quoted
		case !quoted && r == ':':
			parts = append(parts, b.String())
			b.Reset()
		default:
			b.WriteRune(r)
		}
	}
	parts = append(parts, b.String())
	if len(parts) != 2 {
		t.Errorf("q=%q is not one key:value pair", q)
		return "", ""
	}
	return parts[0], parts[1]
}

func page[T any](all []T, q url.Values, defaultMax int) []T {
	first, _ := strconv.Atoi(q.Get("first"))
	limit := defaultMax
	if q.Has("max") {
		limit, _ = strconv.Atoi(q.Get("max"))
	}
	first = min(first, len(all))
	return all[first:min(first+limit, len(all))]
}

func userJSON(users []keycloak.User) []map[string]string {
	out := []map[string]string{}
	for _, u := range users {
		out = append(out, map[string]string{"id": u.ID, "username": u.Username})
	}
	return out
}

func (f *fakeRealm) decode(r *http.Request, v any) bool {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		f.t.Errorf("%s %s: cannot decode the body: %v", r.Method, r.URL, err)
		return false
	}
	return true
}

func (f *fakeRealm) id(kind string) string {
	f.nextID++
	return fmt.Sprintf("%s-%d", kind, f.nextID)
}

// adminRequests returns the admin API requests the fake received so far.
func (f *fakeRealm) adminRequests() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests)
}
