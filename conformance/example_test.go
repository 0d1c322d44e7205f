package conformance_test

import (
	"context"
	"fmt"
	"regexp"

	"github.com/dyor-exchange/dyorctl/conformance"
	"github.com/dyor-exchange/dyorctl/mock"
)

// Check runs the suite outside a Go test; here the rotation cases against
// an in-process dyormock.
func ExampleCheck() {
	srv := mock.NewServer(mock.WithBcryptCost(4))
	defer srv.Close()

	rep, err := conformance.Check(context.Background(),
		conformance.Target{URL: srv.URL, Rate: -1}, // no rate limit: a local server
		conformance.Options{Run: regexp.MustCompile(`^rotation/`)})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range rep.Results {
		fmt.Println(r.Line())
	}
	fmt.Println(rep.Failed, "failed")
	// Output:
	// PASS rotation/refresh
	// PASS rotation/old-access-refused
	// PASS rotation/reuse-detected
	// PASS rotation/reuse-revokes-descendants
	// PASS rotation/reuse-spares-other-sessions
	// 0 failed
}
