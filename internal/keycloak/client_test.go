package keycloak

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestNewClientTimeoutsAndRetries(t *testing.T) {
	cases := map[string]struct {
		reason string
		// answers are the status codes of successive attempts; 0 is no answer at all, as from a stopped
		// process whose port is still open.
		answers      []int
		wantErr      bool
		wantNoAnswer bool
		wantRejected bool
		wantAttempts int32
	}{
		"NoAnswer": {
			reason:       "A Keycloak that never answers fails the login after one attempt, and the error says it did not answer.",
			answers:      []int{0},
			wantErr:      true,
			wantNoAnswer: true,
			wantAttempts: 1,
		},
		"TransientThenAnswer": {
			reason:       "A 503 is transient: the login is retried and succeeds.",
			answers:      []int{http.StatusServiceUnavailable, http.StatusOK},
			wantAttempts: 2,
		},
		"Refused": {
			reason:       "Refused credentials are final: no retry, and not mistaken for a Keycloak that did not answer.",
			answers:      []int{http.StatusUnauthorized},
			wantErr:      true,
			wantRejected: true,
			wantAttempts: 1,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var attempts atomic.Int32
			released := make(chan struct{})
			server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := int(attempts.Add(1)) - 1
				status := tc.answers[min(n, len(tc.answers)-1)]
				if status == 0 {
					select {
					case <-released:
					case <-r.Context().Done():
					}
					return
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(status)
				if status == http.StatusOK {
					_, _ = w.Write([]byte(`{"access_token":"a","expires_in":300,"token_type":"Bearer"}`))
				} else {
					_, _ = w.Write([]byte(`{"error":"unauthorized_client","error_description":"Invalid client credentials"}`))
				}
			}))
			t.Cleanup(server.Close)
			t.Cleanup(func() { close(released) })

			// The test's deadline only guards against a hang; the client must give up first.
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_, err := NewClient(ctx, Config{URL: server.URL, Realm: "idp", AuthRealm: "idp", ClientID: "provider", ClientSecret: "s",
				RequestTimeout: 200 * time.Millisecond})
			got := struct{ Err, NoAnswer, Rejected bool }{err != nil, errors.Is(err, ErrNoAnswer), errors.Is(err, ErrLoginRejected)}
			want := struct{ Err, NoAnswer, Rejected bool }{tc.wantErr, tc.wantNoAnswer, tc.wantRejected}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s\nNewClient(...) error %v: -want, +got:\n%s", tc.reason, err, diff)
			}
			if ctx.Err() != nil {
				t.Errorf("%s\nthe login ended only with the test's own deadline", tc.reason)
			}
			if got := attempts.Load(); got != tc.wantAttempts {
				t.Errorf("%s\nattempts: want %d, got %d", tc.reason, tc.wantAttempts, got)
			}
		})
	}
}
