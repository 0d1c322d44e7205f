package conformance

import (
	"bytes"
	"context"
	"encoding/json"
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

// contract is api/openapi.yaml, parsed and routed once per process.
type contract struct {
	doc           *openapi3.T
	router        routers.Router
	errorEnvelope *openapi3.Schema
}

var parsed struct {
	once sync.Once
	c    *contract
	err  error
}

func loadContract() (*contract, error) {
	parsed.once.Do(func() {
		loader := openapi3.NewLoader()
		loader.IsExternalRefsAllowed = false
		doc, err := loader.LoadFromData(api.OpenAPI)
		if err != nil {
			parsed.err = fmt.Errorf("loading api/openapi.yaml: %w", err)
			return
		}
		if err := doc.Validate(context.Background()); err != nil {
			parsed.err = fmt.Errorf("api/openapi.yaml is invalid: %w", err)
			return
		}
		// Route on paths alone: the target may be on any host.
		doc.Servers = nil
		router, err := legacy.NewRouter(doc)
		if err != nil {
			parsed.err = fmt.Errorf("routing api/openapi.yaml: %w", err)
			return
		}
		env := doc.Components.Schemas["ErrorEnvelope"]
		if env == nil || env.Value == nil {
			parsed.err = fmt.Errorf("api/openapi.yaml has no ErrorEnvelope schema")
			return
		}
		parsed.c = &contract{doc: doc, router: router, errorEnvelope: env.Value}
	})
	return parsed.c, parsed.err
}

// check returns what is wrong with one exchange under the contract (nil if
// nothing). The request body is checked only when the server accepted it
// (2xx): the suite sends broken requests on purpose. A request that matches
// no operation must be answered api.CodeNoRoute, or api.CodeMethodNotAllowed
// with an Allow header.
func (k *contract) check(req *http.Request, reqBody []byte, resp *http.Response, respBody []byte) []string {
	var out []string
	report := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }

	if ct := resp.Header.Get("Content-Type"); !isJSONType(ct) {
		report("Content-Type %q, want application/json", ct)
	}
	if !json.Valid(respBody) {
		report("the body is not JSON (%d bytes)", len(respBody))
		return out
	}
	var env struct {
		OK    *bool `json:"ok"`
		Error *struct {
			Code *int `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(respBody, &env); err != nil {
		report("the body is not the envelope: %v", err)
	} else if env.Error != nil && env.Error.Code != nil {
		code := api.Code(*env.Error.Code)
		if code.Status() != resp.StatusCode {
			report("error code %d with HTTP status %d (want status %d = code / 1000)", code, resp.StatusCode, code.Status())
		}
		if !code.Known() {
			report("error code %d is not a code of the contract", code)
		}
	}
	if env.OK != nil && *env.OK != (resp.StatusCode/100 == 2) {
		report("\"ok\": %v with HTTP status %d", *env.OK, resp.StatusCode)
	}

	route, pathParams, err := k.router.FindRoute(req)
	if err != nil {
		k.checkUnknownRoute(req, resp, respBody, report)
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
	if len(reqBody) > 0 {
		vreq.Body = io.NopCloser(bytes.NewReader(reqBody))
		if vreq.Header.Get("Content-Type") == "" {
			vreq.Header.Set("Content-Type", "application/json")
		}
	}
	in := &openapi3filter.RequestValidationInput{Request: vreq, PathParams: pathParams, Route: route, Options: opts}
	if resp.StatusCode/100 == 2 {
		switch {
		case route.Operation.RequestBody != nil && len(reqBody) > api.MaxBodyBytes:
			report("a body larger than 64 KiB was accepted (want 413 %d)", api.CodeBodyTooLarge)
		default:
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
	rin.SetBodyBytes(respBody)
	if err := openapi3filter.ValidateResponse(context.Background(), rin); err != nil {
		report("the answer breaks api/openapi.yaml: %v", oneLine(err))
	}
	return out
}

// checkUnknownRoute checks the answer to a request that matches no
// operation of the contract.
func (k *contract) checkUnknownRoute(req *http.Request, resp *http.Response, body []byte, report func(string, ...any)) {
	documented := k.documentedMethods(req)
	var want api.Code
	switch resp.StatusCode {
	case http.StatusNotFound:
		want = api.CodeNoRoute
		if len(documented) > 0 && !strings.HasPrefix(req.URL.Path, "/_mock/") {
			report("%s is a route with the methods %v: want 405 %d", req.URL.Path, documented, api.CodeMethodNotAllowed)
		}
	case http.StatusMethodNotAllowed:
		want = api.CodeMethodNotAllowed
		allowed := allowedMethods(resp.Header)
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
		report("error code %v, want %d", codeOf(&env), want)
	}
}

// documentedMethods returns the contract's methods for req's path.
func (k *contract) documentedMethods(req *http.Request) []string {
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

// allowedMethods returns the methods of the Allow header, upper case.
func allowedMethods(h http.Header) []string {
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

func codeOf(env *api.Envelope) any {
	if env.Error == nil {
		return "none"
	}
	return int(env.Error.Code)
}

// oneLine keeps the first line of a validation error: kin-openapi's later
// lines repeat the schema.
func oneLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}
