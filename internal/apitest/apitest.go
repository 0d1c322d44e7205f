// Package apitest checks HTTP traffic against the project's contract,
// api/openapi.yaml (embedded as api.OpenAPI), with kin-openapi's
// openapi3filter. It is test support: only other packages' tests import it.
//
//	srv := mock.Start(t)
//	v := apitest.NewValidator(t)
//	c, err := client.New(srv.URL, client.WithHTTPClient(v.Client()))
//
// Every exchange that goes through [Validator.Transport] is checked, and each
// violation is reported with t.Errorf naming the method, the path, the status
// and what is wrong. The rules:
//
//   - The response is always checked: its status must be one the operation
//     lists, its body must match that answer's schema (the success and error
//     envelopes, result shapes, the ErrorCode enum), and an error's HTTP status
//     must be its code / 1000.
//   - The request is checked only when the response is 2xx. Tests send broken
//     requests on purpose (invalid JSON, a wrong Content-Type, an empty or a
//     huge body, bad tokens); answered with a 4xx error envelope they are not
//     violations. A request the server accepted must be valid, though: a 2xx
//     answer to an invalid request is reported, as is a 2xx answer to a body
//     larger than 64 KiB. Authentication is not checked (bad and missing
//     tokens are the server's business). A request body without a
//     Content-Type is checked as application/json, as the server reads it.
//   - A request that matches no operation of the contract must be answered
//     with the error envelope api.CodeNoRoute (no such path) or
//     api.CodeMethodNotAllowed (another method, with an Allow header listing
//     the contract's methods of the path); anything else is reported.
//   - Transport failures are not violations: an error of the underlying
//     RoundTrip (a dropped connection) is returned as is, and a response body
//     that fails while being read (cut short) is handed to the caller with the
//     same read error, unchecked. A body that reads completely but is not JSON
//     is reported, unless [Validator.AllowTruncatedBodies] was called (for
//     tests of dyormock's truncate fault).
//   - HEAD requests are not checked.
//
// The document is parsed, validated and routed once per test binary; routing
// uses paths only (the servers of the document are ignored), so servers on any
// host and port are checked.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/dyor-exchange/dyorctl/api"
)

// maxBodyBytes is the largest request body the contract allows (64 KiB).
const maxBodyBytes = 64 << 10

// maxBuffered bounds how much of a request body is buffered for checking; the
// rest of a longer body is streamed unchecked.
const maxBuffered = 1 << 20

// Validator checks HTTP exchanges against api/openapi.yaml. It is safe for
// concurrent use.
type Validator struct {
	errorf         func(format string, args ...any)
	spec           *spec
	allowTruncated atomic.Bool
}

// spec is the parsed contract, shared by every Validator.
type spec struct {
	doc           *openapi3.T
	router        routers.Router
	errorEnvelope *openapi3.Schema
}

var loaded struct {
	once sync.Once
	spec *spec
	err  error
}

func loadSpec() (*spec, error) {
	loaded.once.Do(func() {
		loaded.spec, loaded.err = parseSpec()
	})
	return loaded.spec, loaded.err
}

func parseSpec() (*spec, error) {
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	doc, err := loader.LoadFromData(api.OpenAPI)
	if err != nil {
		return nil, fmt.Errorf("loading api/openapi.yaml: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("api/openapi.yaml is invalid: %w", err)
	}
	// Route on paths alone: test servers listen on random ports.
	doc.Servers = nil
	router, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("routing api/openapi.yaml: %w", err)
	}
	env := doc.Components.Schemas["ErrorEnvelope"]
	if env == nil || env.Value == nil {
		return nil, errors.New("api/openapi.yaml has no ErrorEnvelope schema")
	}
	return &spec{doc: doc, router: router, errorEnvelope: env.Value}, nil
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
	s, err := loadSpec()
	if err != nil {
		return nil, err
	}
	return &Validator{errorf: errorf, spec: s}, nil
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
	report := func(format string, args ...any) {
		v.errorf("apitest: %s %s → %d: %s\nresponse body: %s",
			req.Method, req.URL.Path, resp.StatusCode, fmt.Sprintf(format, args...), abbreviate(respBody))
	}

	if !json.Valid(respBody) {
		if !v.allowTruncated.Load() {
			report("response body is not JSON (Content-Type %q)", resp.Header.Get("Content-Type"))
		}
		return
	}
	checkCodeMatchesStatus(resp.StatusCode, respBody, report)

	route, pathParams, err := v.spec.router.FindRoute(req)
	if err != nil {
		v.checkUnknownRoute(req, resp, respBody, err, report)
		return
	}

	opts := &openapi3filter.Options{
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
		IncludeResponseStatus: true,
		SkipSettingDefaults:   true,
		SchemaValidationOptions: []openapi3.SchemaValidationOption{
			openapi3.DisableSchemaErrorDetails(),
		},
	}
	vreq := req.Clone(context.Background())
	vreq.Body = http.NoBody
	if len(reqBody) > 0 {
		vreq.Body = io.NopCloser(bytes.NewReader(reqBody))
		if vreq.Header.Get("Content-Type") == "" {
			vreq.Header.Set("Content-Type", "application/json")
		}
	}
	in := &openapi3filter.RequestValidationInput{
		Request:    vreq,
		PathParams: pathParams,
		Route:      route,
		Options:    opts,
	}

	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		switch {
		case route.Operation.RequestBody != nil && (!reqComplete || len(reqBody) > maxBodyBytes):
			report("a request body larger than 64 KiB was accepted (want 413 %d)", api.CodeBodyTooLarge)
		case reqComplete:
			if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
				report("the request was accepted but breaks the contract: %v", err)
			}
		}
	}

	rin := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Options:                opts,
	}
	rin.SetBodyBytes(respBody)
	if err := openapi3filter.ValidateResponse(context.Background(), rin); err != nil {
		report("response breaks the contract: %v", err)
	}
}

// checkCodeMatchesStatus reports an error envelope whose code / 1000 is not
// the HTTP status.
func checkCodeMatchesStatus(status int, body []byte, report func(string, ...any)) {
	var env struct {
		Error *struct {
			Code *int `json:"code"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &env) != nil || env.Error == nil || env.Error.Code == nil {
		return
	}
	if code := *env.Error.Code; code/1000 != status {
		report("error code %d does not match the HTTP status (want status %d)", code, code/1000)
	}
}

// checkUnknownRoute checks the answer to a request that matches no
// operation: the error envelope api.CodeNoRoute, or api.CodeMethodNotAllowed
// with an Allow header.
func (v *Validator) checkUnknownRoute(req *http.Request, resp *http.Response, body []byte, routeErr error, report func(string, ...any)) {
	documented := v.documentedMethods(req)
	var wantCode api.Code
	switch resp.StatusCode {
	case http.StatusNotFound:
		wantCode = api.CodeNoRoute
		// Under --admin=false the control plane answers CodeNoRoute to any method.
		if len(documented) > 0 && !strings.HasPrefix(req.URL.Path, "/_mock/") {
			report("%s is a path of the contract with the methods %v: want 405 %d", req.URL.Path, documented, api.CodeMethodNotAllowed)
		}
	case http.StatusMethodNotAllowed:
		wantCode = api.CodeMethodNotAllowed
		allow := resp.Header.Values("Allow")
		if len(allow) == 0 {
			report("405 without an Allow header")
			break
		}
		var allowed []string
		for _, a := range allow {
			for m := range strings.SplitSeq(a, ",") {
				allowed = append(allowed, strings.ToUpper(strings.TrimSpace(m)))
			}
		}
		for _, m := range documented {
			if !slices.Contains(allowed, m) {
				report("Allow header %q lacks %s, a method of the contract for this path", strings.Join(allow, ", "), m)
			}
		}
	default:
		report("no operation of the contract matches (%v); only 404 %d or 405 %d may answer it", routeErr, api.CodeNoRoute, api.CodeMethodNotAllowed)
		return
	}

	var value any
	if err := json.Unmarshal(body, &value); err != nil {
		report("response body is not JSON: %v", err)
		return
	}
	if err := v.spec.errorEnvelope.VisitJSON(value, openapi3.VisitAsResponse(), openapi3.DisableSchemaErrorDetails()); err != nil {
		report("response is not the error envelope: %v", err)
		return
	}
	var env struct {
		Error struct {
			Code int `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(body, &env)
	if api.Code(env.Error.Code) != wantCode {
		report("error code %d, want %d", env.Error.Code, wantCode)
	}
}

// documentedMethods returns the methods the contract has for req's path.
func (v *Validator) documentedMethods(req *http.Request) []string {
	var methods []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := req.Clone(context.Background())
		probe.Method = m
		probe.Body = http.NoBody
		if _, _, err := v.spec.router.FindRoute(probe); err == nil {
			methods = append(methods, m)
		}
	}
	return methods
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
