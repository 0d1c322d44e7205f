// Package apitest checks the project's own HTTP traffic against the
// contract, api/openapi.yaml: a RoundTripper that runs every exchange
// through internal/contractcheck (the checker the conformance suite uses
// too) and reports each problem with t.Errorf, naming the method, the path,
// the status and what is wrong. It is test support: only tests import it.
//
//	srv := mock.Start(t)
//	v := apitest.NewValidator(t)
//	c, err := client.New(srv.URL, client.WithHTTPClient(v.Client()))
//
// contractcheck says what is checked. On top of it:
//   - Transport failures are not violations: an error of the underlying
//     RoundTrip (a dropped connection) is returned as is, and a response body
//     that fails while being read (cut short) is handed to the caller with the
//     same read error, unchecked. A body that reads completely but is not JSON
//     is reported, unless [Validator.AllowTruncatedBodies] was called (for
//     tests of dyormock's truncate fault).
//   - A request body over 1 MiB is sent on unbuffered; it is only checked not
//     to have been accepted.
//   - HEAD requests are not checked.
package apitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/dyor-exchange/dyorctl/internal/contractcheck"
)

// maxBuffered bounds how much of a request body is buffered for checking; the
// rest of a longer body is streamed unchecked.
const maxBuffered = 1 << 20

// Validator checks HTTP exchanges against api/openapi.yaml. It is safe for
// concurrent use.
type Validator struct {
	errorf         func(format string, args ...any)
	checker        *contractcheck.Checker
	allowTruncated atomic.Bool
}

// NewValidator returns a Validator that reports violations with t.Errorf. It
// stops the test with t.Fatalf if the contract cannot be loaded.
func NewValidator(t testing.TB) *Validator {
	t.Helper()
	v, err := newValidator(t.Errorf)
	if err != nil {
		t.Fatalf("apitest: %v", err)
	}
	return v
}

// newValidator returns a Validator reporting violations with errorf.
func newValidator(errorf func(format string, args ...any)) (*Validator, error) {
	k, err := contractcheck.Load()
	if err != nil {
		return nil, err
	}
	return &Validator{errorf: errorf, checker: k}, nil
}

// AllowTruncatedBodies stops reporting response bodies that are not JSON
// (such as those cut short by dyormock's truncate fault); the other checks
// stay. It returns v.
func (v *Validator) AllowTruncatedBodies() *Validator {
	v.allowTruncated.Store(true)
	return v
}

// Transport returns a RoundTripper that sends requests with base
// (http.DefaultTransport if nil) and checks every exchange. The caller reads
// the response body as usual.
func (v *Validator) Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{v: v, base: base}
}

// Client returns an http.Client whose transport is
// v.Transport(http.DefaultTransport).
func (v *Validator) Client() *http.Client {
	return &http.Client{Transport: v.Transport(http.DefaultTransport)}
}

type transport struct {
	v    *Validator
	base http.RoundTripper
}

func (tr *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	out := req.Clone(req.Context())
	var reqBody []byte
	complete := true
	if req.Body != nil && req.Body != http.NoBody {
		var err error
		reqBody, err = io.ReadAll(io.LimitReader(req.Body, maxBuffered+1))
		if err != nil {
			req.Body.Close()
			return nil, err
		}
		if len(reqBody) > maxBuffered {
			// Too long to buffer: send what was read, then the rest.
			complete = false
			out.Body = readCloser{io.MultiReader(bytes.NewReader(reqBody), req.Body), req.Body}
			out.GetBody = nil
		} else {
			req.Body.Close()
			body := reqBody
			out.Body = io.NopCloser(bytes.NewReader(body))
			out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		}
	}

	resp, err := tr.base.RoundTrip(out)
	if err != nil {
		return resp, err
	}
	respBody, readErr := io.ReadAll(resp.Body)
	resp.Body.Close()
	if readErr != nil {
		// Cut short or dropped: hand the caller the same failure, unchecked.
		resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(respBody), errReader{readErr}))
		return resp, nil
	}
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	tr.v.check(out, reqBody, complete, resp, respBody)
	return resp, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// check checks one exchange; req is the request as sent, its body consumed.
func (v *Validator) check(req *http.Request, reqBody []byte, reqComplete bool, resp *http.Response, respBody []byte) {
	if req.Method == http.MethodHead {
		return
	}
	if !json.Valid(respBody) && v.allowTruncated.Load() {
		return
	}
	x := contractcheck.Exchange{Request: req, RequestBody: reqBody, RequestCut: !reqComplete, Response: resp, Body: respBody}
	for _, problem := range v.checker.Check(x) {
		v.errorf("apitest: %s %s → %d: %s\nresponse body: %s", req.Method, req.URL.Path, resp.StatusCode, problem, abbreviate(respBody))
	}
}

// abbreviate shortens a body for a report.
func abbreviate(b []byte) string {
	const max = 512
	if len(b) > max {
		return fmt.Sprintf("%s… (%d bytes)", b[:max], len(b))
	}
	if len(b) == 0 {
		return "(empty)"
	}
	return string(b)
}
