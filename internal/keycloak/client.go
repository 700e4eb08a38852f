// Package keycloak manages the realm objects behind cluster access: groups, memberships, clients and
// mappers, through Keycloak's admin API (gocloak).
package keycloak

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/Nerzal/gocloak/v13"
	"github.com/go-resty/resty/v2"
)

// Config says where Keycloak is, which realm the provider manages, and how it logs in: as a confidential
// client with a service account (ClientID/ClientSecret) or as an admin user (Username/Password).
type Config struct {
	URL          string
	Realm        string
	AuthRealm    string
	ClientID     string
	ClientSecret string
	Username     string
	Password     string
}

// ErrLoginRejected is returned when Keycloak refuses the configured credentials.
var ErrLoginRejected = errors.New("keycloak rejected the credentials")

// Client is logged in to Keycloak and renews its token before it expires.
type Client struct {
	api    *gocloak.GoCloak
	cfg    Config
	mu     sync.Mutex
	token  string
	expiry time.Time
}

// NewClient builds a client and logs in, so wrong credentials are reported at once.
func NewClient(ctx context.Context, cfg Config) (*Client, error) {
	api := gocloak.NewClient(strings.TrimRight(cfg.URL, "/"))
	api.RestyClient().SetTimeout(30 * time.Second).SetRetryCount(2).
		AddRetryCondition(func(resp *resty.Response, err error) bool {
			return err != nil || resp.StatusCode() >= http.StatusInternalServerError
		})
	c := &Client{api: api, cfg: cfg}
	if _, err := c.accessToken(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Client) accessToken(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" && time.Now().Before(c.expiry) {
		return c.token, nil
	}
	var (
		jwt *gocloak.JWT
		err error
		who string
	)
	if c.cfg.ClientID != "" {
		who = fmt.Sprintf("client %q in realm %q", c.cfg.ClientID, c.cfg.AuthRealm)
		jwt, err = c.api.LoginClient(ctx, c.cfg.ClientID, c.cfg.ClientSecret, c.cfg.AuthRealm)
	} else {
		who = fmt.Sprintf("user %q in realm %q", c.cfg.Username, c.cfg.AuthRealm)
		jwt, err = c.api.LoginAdmin(ctx, c.cfg.Username, c.cfg.Password, c.cfg.AuthRealm)
	}
	if err != nil {
		var apiErr *gocloak.APIError
		if errors.As(err, &apiErr) && (apiErr.Code == http.StatusUnauthorized || apiErr.Code == http.StatusBadRequest) {
			return "", fmt.Errorf("%w: log-in as %s: %s", ErrLoginRejected, who, apiErr.Message)
		}
		return "", fmt.Errorf("cannot log in to Keycloak at %s as %s: %w", c.cfg.URL, who, err)
	}
	c.token = jwt.AccessToken
	// Renew a little early so a token never expires between this check and its use.
	c.expiry = time.Now().Add(time.Duration(jwt.ExpiresIn)*time.Second - 15*time.Second)
	return c.token, nil
}

// Realm is what the provider reports of its realm.
type Realm struct {
	Name        string
	DisplayName string
	Enabled     bool
	IssuerURL   string
}

// Realm reads the managed realm, which proves the credentials may read it.
func (c *Client) Realm(ctx context.Context) (Realm, error) {
	token, err := c.accessToken(ctx)
	if err != nil {
		return Realm{}, err
	}
	realm, err := c.api.GetRealm(ctx, token, c.cfg.Realm)
	if err != nil {
		return Realm{}, fmt.Errorf("cannot read realm %q: %w", c.cfg.Realm, err)
	}
	return Realm{
		Name:        gocloak.PString(realm.Realm),
		DisplayName: gocloak.PString(realm.DisplayName),
		Enabled:     gocloak.PBool(realm.Enabled),
		IssuerURL:   strings.TrimRight(c.cfg.URL, "/") + "/realms/" + c.cfg.Realm,
	}, nil
}
