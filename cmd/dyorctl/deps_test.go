package main

import (
	"os/exec"
	"strings"
	"testing"
)

// The shipped binary links only what it uses: not the test framework, nor
// the test-only packages (the OpenAPI validator, teatest). dyorctl imports
// the mock for `dyorctl demo`, so a testing.TB in mock's API would pull
// package testing in again.
func TestBinaryLinksNoTestPackages(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for dep := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		switch {
		case dep == "testing", strings.HasPrefix(dep, "testing/"),
			strings.Contains(dep, "/internal/apitest"), strings.Contains(dep, "/internal/contracttest"), strings.Contains(dep, "/internal/testutil"), strings.Contains(dep, "/internal/contractcheck"),
			strings.Contains(dep, "kin-openapi"), strings.Contains(dep, "teatest"),
			strings.HasSuffix(dep, "/conformance"):
			t.Errorf("dyorctl links %s", dep)
		}
	}
}
