package api_test

import (
	"context"
	"slices"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/dyor-exchange/dyorctl/api"
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

// TestErrorCodes checks that every code of the design's error table is in the
// ErrorCode enum, and nothing else.
func TestErrorCodes(t *testing.T) {
	want := []int{
		400001, 400002, 401001, 401002, 401003, 401004, 401005, 403002,
		404000, 404001, 404002, 405000, 409001, 413001, 415001, 500000,
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
			t.Errorf("ErrorCode enum has %d, not in the design's table", code)
		}
		if code == 401006 || code == 401007 {
			t.Errorf("ErrorCode enum has %d, which the project leaves unused", code)
		}
	}
}

// TestOperations checks the operations the design names are all there, each
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
