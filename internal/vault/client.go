// Package vault is the provider's store for cloud credentials and cluster kubeconfigs in Vault.
package vault

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
)

// Config says how to reach and log in to Vault. Exactly one way of logging in is set: a token, an
// AppRole, or a JWT role.
type Config struct {
	Address         string
	CACertFile      string
	Token           string
	AppRoleMount    string
	AppRoleRoleID   string
	AppRoleSecretID string
	JWTMount        string
	JWTRole         string
	JWT             string
	KVMount         string
	Prefix          string
	// RequestTimeout bounds each attempt of a request, from sending it to reading the whole answer. An
	// attempt that gets no answer in time is not repeated: a Vault that is stopped or cut off stays so
	// for longer than a retry waits. Zero keeps the Vault client's defaults.
	RequestTimeout time.Duration
}

// maxRetries is how often Vault's client retries a 5xx or 412 answer or a failed connection, with
// backoff.
const maxRetries = 3

// Client is logged in to Vault.
type Client struct {
	api          *vaultapi.Client
	kvMount      string
	prefix       string
	appRoleMount string
	identity     Identity
}

// Identity is who the client is logged in as, for diagnostics that say who was refused.
type Identity struct {
	// Method is "token", "approle" or "jwt".
	Method string
	// Name is the token's display name, or the AppRole or JWT role.
	Name string
	// Policies are a token's policies (for Method "token").
	Policies []string
}

// Team is the team whose runs the login belongs to, when it is one team's (Teams).
func (i Identity) Team() (string, bool) {
	if teams := i.Teams(); len(teams) == 1 {
		return teams[0], true
	}
	return "", false
}

// Teams are the teams the login acts for: the team of a team role (idp-team-<team>), or those whose
// policies a token carries (a token issued by a team's login and handed to the run). A token's display
// name is never read as a team: anyone may choose it.
func (i Identity) Teams() []string {
	if i.Method != "token" {
		if team, ok := teamOf(i.Name); ok {
			return []string{team}
		}
		return nil
	}
	var teams []string
	for _, policy := range i.Policies {
		if team, ok := teamOf(policy); ok {
			teams = append(teams, team)
		}
	}
	return sortedUnique(teams)
}

// teamOf is the team of a team role or policy name, idp-team-<team>.
func teamOf(name string) (string, bool) {
	if team, ok := strings.CutPrefix(name, teamPrefix); ok && team != "" {
		return team, true
	}
	return "", false
}

func (i Identity) String() string {
	if team, ok := i.Team(); ok && i.Method == "token" {
		return fmt.Sprintf("team %q (a Vault token with its policy)", team)
	}
	if team, ok := i.Team(); ok {
		return fmt.Sprintf("team %q (Vault %s role %q)", team, i.Method, i.Name)
	}
	if i.Method == "token" {
		return fmt.Sprintf("the Vault token %q", i.Name)
	}
	return fmt.Sprintf("the Vault %s role %q", i.Method, i.Name)
}

// ErrPermissionDenied is returned when Vault's policies for the login do not allow a request.
var ErrPermissionDenied = errors.New("permission denied by Vault")

// denied marks an answer of 403 with ErrPermissionDenied, which Vault also gives for a path that does
// not exist when the policies do not reach it.
func denied(err error) error {
	var respErr *vaultapi.ResponseError
	if errors.As(err, &respErr) && respErr.StatusCode == http.StatusForbidden {
		return fmt.Errorf("%w: %w", ErrPermissionDenied, err)
	}
	return err
}

// ErrLoginRejected is returned when Vault refuses the configured credentials.
var ErrLoginRejected = errors.New("vault rejected the credentials")

// NewClient builds a client and logs in with the configured method, so a wrong credential is reported
// at once rather than on the first read.
func NewClient(ctx context.Context, cfg Config) (*Client, error) {
	apiConfig := vaultapi.DefaultConfig()
	if apiConfig.Error != nil {
		return nil, fmt.Errorf("cannot build the Vault client configuration: %w", apiConfig.Error)
	}
	apiConfig.Address = cfg.Address
	apiConfig.MaxRetries = maxRetries
	apiConfig.CheckRetry = retryTransient
	if cfg.RequestTimeout > 0 {
		apiConfig.HttpClient.Timeout = cfg.RequestTimeout
		// The client's own Timeout spans a call with its retries; it is only a backstop here, since
		// every attempt and every wait between attempts is bounded already.
		apiConfig.Timeout = (maxRetries+1)*cfg.RequestTimeout + maxRetries*apiConfig.MaxRetryWait
	}
	if cfg.CACertFile != "" {
		if err := apiConfig.ConfigureTLS(&vaultapi.TLSConfig{CACert: cfg.CACertFile}); err != nil {
			return nil, fmt.Errorf("cannot use CA certificate %s: %w", cfg.CACertFile, err)
		}
	}
	api, err := vaultapi.NewClient(apiConfig)
	if err != nil {
		return nil, fmt.Errorf("cannot build a Vault client for %s: %w", cfg.Address, err)
	}
	api.ClearNamespace()
	c := &Client{api: api, kvMount: cfg.KVMount, prefix: cfg.Prefix, appRoleMount: withDefault(cfg.AppRoleMount, "approle")}
	switch {
	case cfg.Token != "":
		api.SetToken(cfg.Token)
		self, err := api.Auth().Token().LookupSelfWithContext(ctx)
		if err != nil {
			return nil, loginError("token", err)
		}
		displayName, _ := self.Data["display_name"].(string)
		c.identity = Identity{Method: "token", Name: displayName}
		policies, _ := self.Data["policies"].([]any)
		for _, policy := range policies {
			if name, ok := policy.(string); ok {
				c.identity.Policies = append(c.identity.Policies, name)
			}
		}
	case cfg.AppRoleRoleID != "":
		auth, err := c.login(ctx, cfg.AppRoleMount, map[string]any{"role_id": cfg.AppRoleRoleID, "secret_id": cfg.AppRoleSecretID})
		if err != nil {
			return nil, loginError("AppRole at auth/"+cfg.AppRoleMount, err)
		}
		c.identity = Identity{Method: "approle", Name: auth.Metadata["role_name"]}
	case cfg.JWTRole != "":
		if _, err := c.login(ctx, cfg.JWTMount, map[string]any{"role": cfg.JWTRole, "jwt": cfg.JWT}); err != nil {
			return nil, loginError("JWT role "+strconv.Quote(cfg.JWTRole)+" at auth/"+cfg.JWTMount, err)
		}
		c.identity = Identity{Method: "jwt", Name: cfg.JWTRole}
	default:
		return nil, errors.New("no Vault login method is configured")
	}
	return c, nil
}

func (c *Client) login(ctx context.Context, mount string, body map[string]any) (*vaultapi.SecretAuth, error) {
	// A refused login is final, and Vault before 1.14 answers a wrong AppRole secret with a 500 that the
	// client would otherwise retry with backoff.
	c.api.SetMaxRetries(0)
	defer c.api.SetMaxRetries(maxRetries)
	secret, err := c.api.Logical().WriteWithContext(ctx, "auth/"+mount+"/login", body)
	if err != nil {
		return nil, err
	}
	if secret == nil || secret.Auth == nil || secret.Auth.ClientToken == "" {
		return nil, errors.New("the login response carried no token")
	}
	c.api.SetToken(secret.Auth.ClientToken)
	return secret.Auth, nil
}

// Identity is who the client is logged in as.
func (c *Client) Identity() Identity { return c.identity }

func withDefault(value, fallback string) string {
	if value == "" {
		return fallback
	}
	return value
}

// retryTransient is Vault's retry policy (5xx, 412 and failed connections) except for attempts that
// got no answer in time.
func retryTransient(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if err != nil && IsNoAnswer(err) {
		return false, nil
	}
	return vaultapi.DefaultRetryPolicy(ctx, resp, err)
}

// IsNoAnswer reports whether err comes from a Vault that did not answer within the request timeout
// (or the caller's deadline), as opposed to one that answered with an error or refused the connection.
func IsNoAnswer(err error) bool {
	var netErr net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout())
}

// loginError tells a refused credential from a Vault that could not be reached. Vault refuses with 400
// or 403, except that before 1.14 a wrong AppRole role or secret ID gets a 500 saying "invalid ...".
func loginError(method string, err error) error {
	var respErr *vaultapi.ResponseError
	if errors.As(err, &respErr) && (respErr.StatusCode == 400 || respErr.StatusCode == 403 || invalidCredential(respErr.Errors)) {
		return fmt.Errorf("%w: %s login failed: %s", ErrLoginRejected, method, respErr.Errors)
	}
	return fmt.Errorf("cannot log in to Vault with %s: %w", method, err)
}

// Health is what Vault says of itself.
type Health struct {
	Version     string
	ClusterName string
	Initialized bool
	Sealed      bool
}

// Health reads sys/health, which answers even when Vault is sealed or uninitialised.
func (c *Client) Health(ctx context.Context) (Health, error) {
	resp, err := c.api.Sys().HealthWithContext(ctx)
	if err != nil {
		return Health{}, fmt.Errorf("cannot read the health of Vault at %s: %w", c.api.Address(), err)
	}
	return Health{Version: resp.Version, ClusterName: resp.ClusterName, Initialized: resp.Initialized, Sealed: resp.Sealed}, nil
}

// KVMount describes the KV mount the store writes to.
type KVMount struct {
	Path    string
	Version int
	Prefix  string
}

// KVMount checks that the configured mount exists, is visible to the logged-in token and is KV version 2.
func (c *Client) KVMount(ctx context.Context) (KVMount, error) {
	secret, err := c.api.Logical().ReadWithContext(ctx, "sys/internal/ui/mounts/"+c.kvMount)
	if err != nil {
		return KVMount{}, fmt.Errorf("cannot read KV mount %q: %w", c.kvMount, err)
	}
	if secret == nil {
		return KVMount{}, fmt.Errorf("KV mount %q does not exist or the token may not use it", c.kvMount)
	}
	kind, _ := secret.Data["type"].(string)
	options, _ := secret.Data["options"].(map[string]any)
	versionText, _ := options["version"].(string)
	version, _ := strconv.Atoi(versionText)
	if kind != "kv" || version != 2 {
		return KVMount{}, fmt.Errorf("mount %q is %s version %q, not a KV version 2 secrets engine", c.kvMount, kind, versionText)
	}
	return KVMount{Path: c.kvMount, Version: version, Prefix: c.prefix}, nil
}

// Address is the Vault URL the client talks to.
func (c *Client) Address() string { return c.api.Address() }

func invalidCredential(messages []string) bool {
	for _, m := range messages {
		if strings.HasPrefix(m, "invalid role id") || strings.HasPrefix(m, "invalid secret id") || strings.HasPrefix(m, "invalid role or secret ID") {
			return true
		}
	}
	return false
}
