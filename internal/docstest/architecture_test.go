package docstest

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// ARCHITECTURE.md names packages, directories and files; each must exist,
// so that the map cannot outlive the code it describes.
func TestArchitectureNamesWhatExists(t *testing.T) {
	root := filepath.Join("..", "..")
	doc, err := os.ReadFile(filepath.Join(root, "ARCHITECTURE.md"))
	if err != nil {
		t.Fatal(err)
	}
	// `api`, `client/storetest`, `mock/answer.go`, `cmd/dyorctl/testdata/script/*.txtar` …
	name := regexp.MustCompile("`((?:api|client|credstore|tui|mock|conformance|internal|cmd|tools|scripts|docs)(?:/[A-Za-z0-9_.*/-]+)?)`")
	checked := 0
	for _, m := range name.FindAllStringSubmatch(string(doc), -1) {
		path := strings.TrimSuffix(m[1], "/")
		matches, err := filepath.Glob(filepath.Join(root, path))
		if err != nil || len(matches) == 0 {
			t.Errorf("ARCHITECTURE.md names %s, which does not exist", m[1])
		}
		checked++
	}
	// internal/foo written as `safetext`: the short names in the code map.
	for _, short := range []string{"safetext", "timefmt", "storetest", "apitest", "contracttest", "testutil"} {
		if strings.Contains(string(doc), "`"+short+"`") {
			if m, _ := filepath.Glob(filepath.Join(root, "*", short)); len(m) == 0 {
				if m, _ := filepath.Glob(filepath.Join(root, "*", "*", short)); len(m) == 0 {
					t.Errorf("ARCHITECTURE.md names %s, which is no package", short)
				}
			}
		}
	}
	if checked < 20 {
		t.Fatalf("only %d names found: the pattern no longer matches the page", checked)
	}
}
