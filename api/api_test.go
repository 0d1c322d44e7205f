package api_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/dyor-exchange/dyorctl/api"
	"github.com/dyor-exchange/dyorctl/internal/contracttest"
)

func load(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(api.OpenAPI)
	if err != nil {
		t.Fatalf("loading openapi.yaml: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.yaml is not a valid OpenAPI document: %v", err)
	}
	return doc
}

func TestSpecIsValid(t *testing.T) {
	doc := load(t)
	if doc.OpenAPI != "3.0.3" {
		t.Errorf("openapi = %q, want 3.0.3", doc.OpenAPI)
	}
}

// TestErrorCodes checks that the ErrorCode enum of the document holds the
// codes of api.Codes, and nothing else.
func TestErrorCodes(t *testing.T) {
	var want []int
	for _, c := range api.Codes {
		want = append(want, int(c))
	}
	if len(want) != 17 {
		t.Fatalf("api.Codes has %d codes, want the 17 of the contract", len(want))
	}
	doc := load(t)
	ref := doc.Components.Schemas["ErrorCode"]
	if ref == nil || ref.Value == nil {
		t.Fatal("no ErrorCode schema")
	}
	var got []int
	for _, v := range ref.Value.Enum {
		f, ok := v.(float64)
		if !ok {
			t.Fatalf("ErrorCode enum value %v (%T) is not a number", v, v)
		}
		got = append(got, int(f))
	}
	for _, code := range want {
		if !slices.Contains(got, code) {
			t.Errorf("code %d missing from the ErrorCode enum", code)
		}
	}
	for _, code := range got {
		if !slices.Contains(want, code) {
			t.Errorf("ErrorCode enum has %d, not in the api.Codes", code)
		}
		if code == 401006 || code == 401007 {
			t.Errorf("ErrorCode enum has %d, which the project leaves unused", code)
		}
	}
}

// TestOperations checks the operations of the contract are all there, each
// with an operationId, a 200 answer and the shared error answer.
func TestOperations(t *testing.T) {
	doc := load(t)
	want := map[string][]string{
		"/api/v1/account/register": {"POST"},
		"/api/v1/account/login":    {"POST"},
		"/api/v1/account/refresh":  {"GET"},
		"/api/v1/account/logout":   {"DELETE"},
		"/healthz":                 {"GET"},
		"/_mock/accounts":          {"GET", "POST"},
		"/_mock/sessions":          {"GET", "POST"},
		"/_mock/sessions/{id}":     {"DELETE"},
		"/_mock/reset":             {"POST"},
		"/_mock":                   {"GET"},
		"/_mock/faults":            {"GET", "POST", "DELETE"},
		"/_mock/faults/{id}":       {"DELETE"},
		"/_mock/clock":             {"GET", "POST"},
		"/_mock/requests":          {"GET", "DELETE"},
		"/_mock/findings":          {"GET", "DELETE"},
		"/_mock/settings":          {"GET", "POST"},
		"/_mock/tenants":           {"GET", "POST"},
		"/_mock/tenants/{id}":      {"DELETE"},
	}
	if n := doc.Paths.Len(); n != len(want) {
		t.Errorf("%d paths, want %d", n, len(want))
	}
	for path, methods := range want {
		item := doc.Paths.Value(path)
		if item == nil {
			t.Errorf("path %s missing", path)
			continue
		}
		if n := len(item.Operations()); n != len(methods) {
			t.Errorf("%s has %d operations, want %d", path, n, len(methods))
		}
		for _, m := range methods {
			op := item.GetOperation(m)
			if op == nil {
				t.Errorf("%s %s missing", m, path)
				continue
			}
			if op.OperationID == "" {
				t.Errorf("%s %s has no operationId", m, path)
			}
			if op.Responses.Status(200) == nil {
				t.Errorf("%s %s has no 200 answer", m, path)
			}
			if op.Responses.Status(500) == nil {
				t.Errorf("%s %s has no 500 answer", m, path)
			}
		}
	}
}

// Every row of the shared input-rules table gets its verdict, and a
// refusal names the field and says the rule.
func TestInputRules(t *testing.T) {
	usernames, passwords := contracttest.InputRules()
	for _, tc := range usernames {
		err := api.CheckUsername(tc.Value)
		if (err == nil) != tc.Valid {
			t.Errorf("CheckUsername(%+q) = %v, want valid=%v (%s)", tc.Value, err, tc.Valid, tc.Note)
		}
		var re *api.RuleError
		if err != nil && (!errors.As(err, &re) || re.Field != "username" || !strings.HasPrefix(err.Error(), "username must ")) {
			t.Errorf("CheckUsername(%+q) = %#v, want a RuleError of the username", tc.Value, err)
		}
		if err := api.CheckCredentials(tc.Value, "honeyBunnies"); (err == nil) != tc.Valid {
			t.Errorf("CheckCredentials(%+q, good password) = %v", tc.Value, err)
		}
	}
	for _, tc := range passwords {
		err := api.CheckPassword(tc.Value)
		if (err == nil) != tc.Valid {
			t.Errorf("CheckPassword(%d bytes) = %v, want valid=%v (%s)", len(tc.Value), err, tc.Valid, tc.Note)
		}
		if err != nil && err.Error() != "password must be 8 to 72 bytes long" {
			t.Errorf("CheckPassword: %q", err)
		}
	}
}

// The code table: status is code / 1000, every code has a meaning, and the
// groups the clients act on hold exactly the codes they should.
func TestCodes(t *testing.T) {
	for _, c := range api.Codes {
		if c.Status() != int(c)/1000 || c.Status() < 400 || c.Meaning() == "" || !c.Known() {
			t.Errorf("code %v: status %d, meaning %q", c, c.Status(), c.Meaning())
		}
		wantRejected := c >= 401001 && c <= 401004
		if c.SessionRejected() != wantRejected {
			t.Errorf("%v.SessionRejected() = %v", c, !wantRejected)
		}
		wantInput := c == 400001 || c == 400002 || c == 413001 || c == 415001
		if c.InvalidInput() != wantInput {
			t.Errorf("%v.InvalidInput() = %v", c, !wantInput)
		}
	}
	if api.Code(401006).Known() || api.Code(401006).Meaning() != "" {
		t.Error("401006 is not a code of the contract")
	}
	if api.CodeSessionNotFound.String() != "401004" {
		t.Errorf("String() = %q", api.CodeSessionNotFound.String())
	}
}

// Every route of the contract is a path of the OpenAPI document with its
// method.
func TestRoutesAreInTheDocument(t *testing.T) {
	doc := load(t)
	for _, r := range api.Routes {
		item := doc.Paths.Find(r.Path)
		if item == nil || item.GetOperation(r.Method) == nil {
			t.Errorf("%s %s is not in openapi.yaml", r.Method, r.Path)
		}
		if got, ok := api.RouteByName(r.Name); !ok || got != r {
			t.Errorf("RouteByName(%q) = %+v", r.Name, got)
		}
		if got, ok := api.RouteByPath(r.Path); !ok || got != r {
			t.Errorf("RouteByPath(%q) = %+v", r.Path, got)
		}
	}
}
