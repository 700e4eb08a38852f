package kube

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestBoundedTransport(t *testing.T) {
	cases := map[string]struct {
		reason string
		// answer says whether the server answers; one that does not blocks until the test ends, as a
		// stopped process with its port still open does.
		answer      bool
		wantVersion string
		wantErr     string // substring; "" for success
		wantNoAns   bool
	}{
		"NoAnswer": {
			reason:    "A server that accepts the connection but never answers fails the request, naming the backend and its host.",
			wantErr:   "management cluster at http://127.0.0.1:",
			wantNoAns: true,
		},
		"Answer": {
			reason:      "A server that answers is read as usual: the bound only waits for the headers.",
			answer:      true,
			wantVersion: "v1.34.4",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			released := make(chan struct{})
			server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !tc.answer {
					select {
					case <-released:
					case <-r.Context().Done():
					}
					return
				}
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`{"gitVersion":"v1.34.4"}`))
			}))
			// Close releases the handler first, or server.Close would wait for it.
			t.Cleanup(server.Close)
			t.Cleanup(func() { close(released) })

			client, err := NewClient(Config{Host: server.URL, RequestTimeout: 50 * time.Millisecond, Name: "management cluster"})
			if err != nil {
				t.Fatal(err)
			}
			// The test's own deadline only guards against a hang; the transport must end the call first.
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			version, err := client.ServerVersion(ctx)
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && !strings.Contains(gotErr, tc.wantErr) {
				t.Errorf("%s\nServerVersion() error: want containing %q, got %q", tc.reason, tc.wantErr, gotErr)
			}
			if got := errors.Is(err, ErrNoAnswer); got != tc.wantNoAns {
				t.Errorf("%s\nerrors.Is(err, ErrNoAnswer): want %t, got %t (err %v)", tc.reason, tc.wantNoAns, got, err)
			}
			if ctx.Err() != nil {
				t.Errorf("%s\nthe call ended only with the test's own deadline", tc.reason)
			}
			if diff := cmp.Diff(tc.wantVersion, version); diff != "" {
				t.Errorf("%s\nServerVersion(): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
