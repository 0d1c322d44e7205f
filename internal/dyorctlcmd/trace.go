package dyorctlcmd

import (
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// traceTransport is --verbose: one line per request and one per answer on
// w, with the method, URL, status and duration. It never prints headers or
// bodies (where tokens and passwords travel); it only says that a bearer
// token was sent, redacted. The API puts nothing secret in URLs.
type traceTransport struct {
	base http.RoundTripper
	now  func() time.Time

	mu sync.Mutex // one request's lines at a time
	w  io.Writer
}

func (t *traceTransport) printf(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintf(t.w, format, args...)
}

func (t *traceTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header.Get("Authorization") != "" {
		t.printf("> %s %s\n> Authorization: Bearer [redacted]\n", req.Method, req.URL.Redacted())
	} else {
		t.printf("> %s %s\n", req.Method, req.URL.Redacted())
	}
	start := t.now()
	resp, err := t.base.RoundTrip(req)
	elapsed := t.now().Sub(start).Round(time.Millisecond)
	if err != nil {
		t.printf("< %s %s failed: %s (%s)\n", req.Method, req.URL.Redacted(), innermost(err), elapsed)
		return resp, err
	}
	t.printf("< %s (%s)\n", statusText(resp.StatusCode), elapsed)
	return resp, nil
}
