package api_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
)

// prose are the members whose strings are documentation only: validators
// never quote them in an answer.
var prose = map[string]bool{
	"description": true, "summary": true, "title": true, "example": true, "examples": true,
}

// TestSpecTravelsInHeaders keeps the document usable behind validating
// proxies. Prism's proxy reports a violation in the sl-violations response
// header, quoting the pattern, enum values, property and parameter names it
// broke; one byte outside ASCII there and Node refuses the header and drops
// the connection instead of passing the server's answer on. So every key and
// every string of the document that is not prose must be printable ASCII
// (non-ASCII characters are written as \uXXXX escapes inside patterns).
func TestSpecTravelsInHeaders(t *testing.T) {
	doc := load(t)
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var tree any
	if err := json.Unmarshal(b, &tree); err != nil {
		t.Fatal(err)
	}
	var bad []string
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, child := range v {
				if !headerSafe(k) {
					bad = append(bad, fmt.Sprintf("key %s/%+q", path, k))
				}
				if prose[k] || strings.HasPrefix(k, "x-") {
					continue
				}
				walk(path+"/"+k, child)
			}
		case []any:
			for i, child := range v {
				walk(fmt.Sprintf("%s/%d", path, i), child)
			}
		case string:
			if !headerSafe(v) {
				bad = append(bad, fmt.Sprintf("%s = %+q", path, v))
			}
		}
	}
	walk("", tree)
	for _, s := range bad {
		t.Errorf("not printable ASCII, so it cannot travel in an HTTP header: %s", s)
	}
	if !strings.Contains(string(b), "pattern") {
		t.Fatal("the walk saw no pattern at all")
	}
}

func headerSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

func TestHeaderSafe(t *testing.T) {
	for s, want := range map[string]bool{
		`^[0-9]+(\u00b5s|ms)$`: true,
		"^[0-9]+(µs|ms)$":      false,
		"tab\there":            false,
		"":                     true,
	} {
		if got := headerSafe(s); got != want {
			t.Errorf("headerSafe(%q) = %v, want %v", s, got, want)
		}
	}
}

// The escaped Duration pattern still means what time.ParseDuration
// accepts, micro sign and Greek mu included, and still refuses a negative
// advance.
func TestDurationPattern(t *testing.T) {
	doc := load(t)
	ref := doc.Components.Schemas["Duration"]
	if ref == nil || ref.Value == nil {
		t.Fatal("no Duration schema")
	}
	if !utf8.ValidString(ref.Value.Pattern) || !headerSafe(ref.Value.Pattern) {
		t.Fatalf("Duration pattern %+q is not ASCII", ref.Value.Pattern)
	}
	for _, d := range []string{"16m", "1h30m", "1.5s", "5\u00b5s", "5\u03bcs", "250ms", "0"} {
		if err := ref.Value.VisitJSON(d, openapi3.VisitAsRequest()); err != nil {
			t.Errorf("%q refused: %v", d, err)
		}
	}
	for _, d := range []string{"-5m", "5", "m", "5 m", "5\u00b6s", ""} {
		if err := ref.Value.VisitJSON(d, openapi3.VisitAsRequest()); err == nil {
			t.Errorf("%q accepted", d)
		}
	}
}
