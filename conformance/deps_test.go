package conformance_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The shipped dyorctl must not carry the suite nor its OpenAPI validator,
// and package api must stay cheap to import: the standard library only.
func TestDependencies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	deps := func(pkg string) []string {
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		return strings.Fields(string(out))
	}
	for _, d := range deps("github.com/dyor-exchange/dyorctl/cmd/dyorctl") {
		if strings.Contains(d, "kin-openapi") || strings.HasSuffix(d, "/dyorctl/conformance") {
			t.Errorf("cmd/dyorctl depends on %s", d)
		}
	}
	for _, d := range deps("github.com/dyor-exchange/dyorctl/api") {
		if strings.Contains(strings.SplitN(d, "/", 2)[0], ".") && d != "github.com/dyor-exchange/dyorctl/api" {
			t.Errorf("api depends on %s, outside the standard library", d)
		}
	}
}
