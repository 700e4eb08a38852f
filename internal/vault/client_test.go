package vault

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
	lookupSelf := `{"data":{"id":"t","policies":["default"]}}`
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
			reason:       "A Vault that never answers fails the login after one attempt, and the error says it did not answer.",
			answers:      []int{0},
			wantErr:      true,
			wantNoAnswer: true,
			wantAttempts: 1,
		},
		"TransientThenAnswer": {
			reason:       "A 503 is transient: the request is retried with backoff and succeeds.",
			answers:      []int{http.StatusServiceUnavailable, http.StatusOK},
			wantAttempts: 2,
		},
		"Refused": {
			reason:       "A refused token is final: no retry, and it is not mistaken for a Vault that did not answer.",
			answers:      []int{http.StatusForbidden},
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
					_, _ = w.Write([]byte(lookupSelf))
				} else {
					_, _ = w.Write([]byte(`{"errors":["permission denied"]}`))
				}
			}))
			t.Cleanup(server.Close)
			t.Cleanup(func() { close(released) })

			// The test's deadline only guards against a hang; the client must give up first.
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_, err := NewClient(ctx, Config{Address: server.URL, Token: "t", KVMount: "secret", Prefix: "idp", RequestTimeout: 200 * time.Millisecond})
			got := struct{ Err, NoAnswer, Rejected bool }{err != nil, IsNoAnswer(err), errors.Is(err, ErrLoginRejected)}
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
