// Package keycloak manages the realm objects behind cluster access: groups, memberships, clients and
// mappers, through Keycloak's admin API (gocloak).
package keycloak

import (
	"context"
	"errors"
	"fmt"
	"net"
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
	// RequestTimeout bounds each attempt of a request, from sending it to reading the whole answer;
	// 30 seconds when zero. An attempt that gets no answer in time is not repeated.
	RequestTimeout time.Duration
	// IssuerURL is the https issuer of the realm's tokens as the platform's clusters trust it, which
	// may differ from URL (Keycloak behind another name, or the admin API on plain http).
	IssuerURL string
	// IssuerCAPEM is the PEM CA of the issuer's certificate, when a private CA signed it.
	IssuerCAPEM []byte
	// LoginClientID is the realm's client users log in to clusters with: the audience the clusters
	// accept, whose tokens carry the groups claim.
	LoginClientID string
}

// maxRetries is how often a request is repeated after a 5xx answer or a failed connection.
const maxRetries = 2

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
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 30 * time.Second
	}
	api := gocloak.NewClient(strings.TrimRight(cfg.URL, "/"))
	api.RestyClient().SetTimeout(cfg.RequestTimeout).SetRetryCount(maxRetries).
		AddRetryCondition(func(resp *resty.Response, err error) bool {
			if err != nil {
				return !timeout(err)
			}
			return resp.StatusCode() >= http.StatusInternalServerError
		}).
		// gocloak keeps only the text of a failed request's error; the hook keeps the error itself, so
		// that a Keycloak that did not answer can be told from one that answered with an error.
		OnError(func(req *resty.Request, err error) {
			if failure, ok := req.Context().Value(failureKey{}).(*failure); ok {
				failure.err = err
			}
		})
	c := &Client{api: api, cfg: cfg}
	if _, err := c.accessToken(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// ErrNoAnswer is returned when Keycloak did not answer within the request timeout.
var ErrNoAnswer = errors.New("keycloak did not answer")

type (
	failureKey struct{}
	failure    struct{ err error }
)

// noAnswerError says which Keycloak did not answer within what time; errors.Is(err, ErrNoAnswer) holds.
type noAnswerError struct {
	url   string
	limit time.Duration
	err   error
}

func (e *noAnswerError) Error() string {
	return fmt.Sprintf("Keycloak at %s did not answer within %s (%v)", e.url, e.limit, e.err)
}
func (e *noAnswerError) Is(target error) bool { return target == ErrNoAnswer }
func (e *noAnswerError) Unwrap() error        { return e.err }

// call runs one gocloak call and, when Keycloak did not answer in time, says so with ErrNoAnswer.
func (c *Client) call(ctx context.Context, fn func(context.Context) error) error {
	f := &failure{}
	err := fn(context.WithValue(ctx, failureKey{}, f))
	if err != nil && f.err != nil && timeout(f.err) {
		return &noAnswerError{url: c.cfg.URL, limit: c.cfg.RequestTimeout, err: err}
	}
	return err
}

func timeout(err error) bool {
	var netErr net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout())
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
		err = c.call(ctx, func(ctx context.Context) (err error) {
			jwt, err = c.api.LoginClient(ctx, c.cfg.ClientID, c.cfg.ClientSecret, c.cfg.AuthRealm)
			return err
		})
	} else {
		who = fmt.Sprintf("user %q in realm %q", c.cfg.Username, c.cfg.AuthRealm)
		err = c.call(ctx, func(ctx context.Context) (err error) {
			jwt, err = c.api.LoginAdmin(ctx, c.cfg.Username, c.cfg.Password, c.cfg.AuthRealm)
			return err
		})
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
	var realm *gocloak.RealmRepresentation
	err = c.call(ctx, func(ctx context.Context) (err error) {
		realm, err = c.api.GetRealm(ctx, token, c.cfg.Realm)
		return err
	})
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
