package kube

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// ErrNoAnswer matches the error of a request whose response did not begin within the request timeout:
// the API server is stopped, overloaded or unreachable behind a network that drops packets.
var ErrNoAnswer = errors.New("no answer within the request timeout")

// NoAnswerError says which backend and host did not answer, and within what time.
type NoAnswerError struct {
	Backend string
	Host    string
	Limit   time.Duration
}

func (e *NoAnswerError) Error() string {
	return fmt.Sprintf("%s at %s did not answer within %s", e.Backend, e.Host, e.Limit)
}

// Is makes errors.Is(err, ErrNoAnswer) hold for every NoAnswerError.
func (e *NoAnswerError) Is(target error) bool { return target == ErrNoAnswer }

// Timeout makes the error a timeout to code that asks net.Error, such as client-go's retry checks,
// which do not retry timeouts.
func (e *NoAnswerError) Timeout() bool { return true }

// BoundedTransport returns a wrapper for rest.Config.Wrap that fails a request whose response headers
// have not arrived within timeout. It bounds the wait for an answer and not the whole exchange:
// rest.Config.Timeout would also cut watches and long downloads that Helm's waits rely on, whereas
// here, once the headers are in, the body stays readable until the caller closes it. backend names
// the cluster in the error, e.g. "management cluster".
func BoundedTransport(timeout time.Duration, backend string) func(http.RoundTripper) http.RoundTripper {
	return func(next http.RoundTripper) http.RoundTripper {
		if timeout <= 0 {
			return next
		}
		return &boundedTransport{next: next, timeout: timeout, backend: backend}
	}
}

type boundedTransport struct {
	next    http.RoundTripper
	timeout time.Duration
	backend string
}

func (t *boundedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(req.Context())
	timer := time.AfterFunc(t.timeout, cancel)
	resp, err := t.next.RoundTrip(req.WithContext(ctx))
	if !timer.Stop() && req.Context().Err() == nil {
		// The timer fired (and cancelled the request) before the headers came; a response that won
		// the race is unusable anyway, since its body belongs to the cancelled context.
		cancel()
		if resp != nil {
			resp.Body.Close()
		}
		return nil, &NoAnswerError{Backend: t.backend, Host: req.URL.Scheme + "://" + req.URL.Host, Limit: t.timeout}
	}
	if err != nil {
		cancel()
		return nil, err
	}
	body := &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	if w, ok := resp.Body.(io.Writer); ok {
		// An upgraded connection (101 Switching Protocols) is written through its body.
		resp.Body = &cancelOnCloseWriter{cancelOnClose: body, Writer: w}
	} else {
		resp.Body = body
	}
	return resp, nil
}

// cancelOnClose releases the request's context when the body is closed, not before, so a watch stays
// open for as long as its reader wants it.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

type cancelOnCloseWriter struct {
	*cancelOnClose
	io.Writer
}
