// Package contractcheck checks one HTTP exchange against the contract,
// api/openapi.yaml, with kin-openapi. It is the one such checker of the
// module: the conformance suite runs it on every answer it receives, and
// internal/apitest wraps it in a RoundTripper for the project's own tests.
//
// The rules:
//   - The answer is always checked: Content-Type application/json, a JSON
//     body in the envelope, "ok" true exactly on a 2xx, code / 1000 ==
//     status, a status the operation lists, and a body matching that
//     answer's schema (which says which codes it may carry).
//   - The request is checked only when the answer is 2xx: callers send
//     broken requests on purpose, and answered with a 4xx error envelope they
//     are no violation. A request the server accepted must be valid, and a
//     body over api.MaxBodyBytes must not be accepted. A request body without
//     a Content-Type is checked as application/json, as the server reads it.
//     Authentication is not checked: bad tokens are the server's business.
//   - A request that matches no operation must be answered api.CodeNoRoute,
//     or api.CodeMethodNotAllowed with an Allow header listing the contract's
//     methods of the path.
//
// The document is parsed, validated and routed once per process, on paths
// alone, so servers on any host, port and path prefix are checked.
package contractcheck

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

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/dyor-exchange/dyorctl/api"
)

// A Checker is the parsed contract. It is safe for concurrent use.
type Checker struct {
	router        routers.Router
	errorEnvelope *openapi3.Schema
}

var loaded struct {
	once sync.Once
	c    *Checker
	err  error
}

// Load returns the Checker of api/openapi.yaml, parsed once per process.
func Load() (*Checker, error) {
	loaded.once.Do(func() { loaded.c, loaded.err = parse() })
	return loaded.c, loaded.err
}

func parse() (*Checker, error) {
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	doc, err := loader.LoadFromData(api.OpenAPI)
	if err != nil {
		return nil, fmt.Errorf("loading api/openapi.yaml: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("api/openapi.yaml is invalid: %w", err)
	}
	doc.Servers = nil // route on paths alone: the server may be anywhere
	router, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("routing api/openapi.yaml: %w", err)
	}
	env := doc.Components.Schemas["ErrorEnvelope"]
	if env == nil || env.Value == nil {
		return nil, errors.New("api/openapi.yaml has no ErrorEnvelope schema")
	}
	return &Checker{router: router, errorEnvelope: env.Value}, nil
}

// An Exchange is one request and its answer, bodies read whole.
type Exchange struct {
	Request     *http.Request // as sent; its body is not read
	RequestBody []byte
	// RequestCut says RequestBody is only the start of a body too long to
	// keep; such a request is not validated, only checked not accepted.
	RequestCut bool
	Response   *http.Response // its body is not read
	Body       []byte
}

// Check returns what is wrong with x under the contract, one sentence
// each; nil when nothing is.
func (k *Checker) Check(x Exchange) []string {
	var out []string
	report := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	req, resp := x.Request, x.Response

	if ct := resp.Header.Get("Content-Type"); !isJSONType(ct) {
		report("Content-Type %q, want application/json", ct)
	}
	if !json.Valid(x.Body) {
		report("the body is not JSON (%d bytes)", len(x.Body))
		return out
	}
	var env struct {
		OK    *bool `json:"ok"`
		Error *struct {
			Code *int `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(x.Body, &env); err != nil {
		report("the body is not the envelope: %v", err)
	} else {
		if env.Error != nil && env.Error.Code != nil {
			code := api.Code(*env.Error.Code)
			if code.Status() != resp.StatusCode {
				report("error code %d with HTTP status %d (want status %d = code / 1000)", code, resp.StatusCode, code.Status())
			}
		}
		if env.OK != nil && *env.OK != (resp.StatusCode/100 == 2) {
			report("\"ok\": %v with HTTP status %d", *env.OK, resp.StatusCode)
		}
	}

	route, pathParams, err := k.router.FindRoute(req)
	if err != nil {
		k.checkUnknownRoute(req, resp, x.Body, report)
		return out
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
	if len(x.RequestBody) > 0 {
		vreq.Body = io.NopCloser(bytes.NewReader(x.RequestBody))
		if vreq.Header.Get("Content-Type") == "" {
			vreq.Header.Set("Content-Type", "application/json")
		}
	}
	in := &openapi3filter.RequestValidationInput{Request: vreq, PathParams: pathParams, Route: route, Options: opts}
	if resp.StatusCode/100 == 2 {
		switch {
		case route.Operation.RequestBody != nil && (x.RequestCut || len(x.RequestBody) > api.MaxBodyBytes):
			report("a body larger than %d KiB was accepted (want 413 %d)", api.MaxBodyBytes>>10, api.CodeBodyTooLarge)
		case !x.RequestCut:
			if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
				report("the server accepted a request that breaks the contract: %v", oneLine(err))
			}
		}
	}
	rin := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Options:                opts,
	}
	rin.SetBodyBytes(x.Body)
	if err := openapi3filter.ValidateResponse(context.Background(), rin); err != nil {
		report("the answer breaks api/openapi.yaml: %v", oneLine(err))
	}
	return out
}

// checkUnknownRoute checks the answer to a request that matches no
// operation of the contract.
func (k *Checker) checkUnknownRoute(req *http.Request, resp *http.Response, body []byte, report func(string, ...any)) {
	documented := k.documentedMethods(req)
	var want api.Code
	switch resp.StatusCode {
	case http.StatusNotFound:
		want = api.CodeNoRoute
		// Under dyormock --admin=false the control plane answers CodeNoRoute
		// to any method.
		if len(documented) > 0 && !strings.HasPrefix(req.URL.Path, "/_mock/") {
			report("%s is a route with the methods %v: want 405 %d", req.URL.Path, documented, api.CodeMethodNotAllowed)
		}
	case http.StatusMethodNotAllowed:
		want = api.CodeMethodNotAllowed
		allowed := AllowedMethods(resp.Header)
		if len(allowed) == 0 {
			report("405 without an Allow header")
		}
		for _, m := range documented {
			if !slices.Contains(allowed, m) {
				report("Allow %q lacks %s, a method of the contract for %s", resp.Header.Get("Allow"), m, req.URL.Path)
			}
		}
	default:
		report("%s %s is no operation of the contract: only 404 %d or 405 %d may answer it, got %d",
			req.Method, req.URL.Path, api.CodeNoRoute, api.CodeMethodNotAllowed, resp.StatusCode)
		return
	}
	var value any
	if err := json.Unmarshal(body, &value); err != nil {
		return // reported already
	}
	if err := k.errorEnvelope.VisitJSON(value, openapi3.VisitAsResponse(), openapi3.DisableSchemaErrorDetails()); err != nil {
		report("the answer is not the error envelope: %v", oneLine(err))
		return
	}
	var env api.Envelope
	_ = json.Unmarshal(body, &env)
	if env.Error == nil || env.Error.Code != want {
		got := "none"
		if env.Error != nil {
			got = env.Error.Code.String()
		}
		report("error code %s, want %d", got, want)
	}
}

// documentedMethods returns the contract's methods for req's path.
func (k *Checker) documentedMethods(req *http.Request) []string {
	var methods []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := req.Clone(context.Background())
		probe.Method = m
		probe.Body = http.NoBody
		if _, _, err := k.router.FindRoute(probe); err == nil {
			methods = append(methods, m)
		}
	}
	return methods
}

// AllowedMethods returns the methods of an Allow header, upper case.
func AllowedMethods(h http.Header) []string {
	var out []string
	for _, a := range h.Values("Allow") {
		for m := range strings.SplitSeq(a, ",") {
			if m = strings.ToUpper(strings.TrimSpace(m)); m != "" {
				out = append(out, m)
			}
		}
	}
	return out
}

func isJSONType(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	return strings.EqualFold(strings.TrimSpace(mt), "application/json")
}

// oneLine keeps the first line of a validation error: kin-openapi's later
// lines repeat the schema.
func oneLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}
