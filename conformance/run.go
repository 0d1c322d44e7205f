package conformance

import (
	"testing"
)

// Run runs the suite against target inside a Go test: one subtest per case
// (named as in Cases), failed with the case's message or skipped with its
// reason, and the sessions the suite created logged out when t's subtests
// are done. Select cases with go test -run 'TestX/rotation/'. A target that
// cannot be tested at all (a bad URL, no answer) fails t at once.
func Run(t *testing.T, target Target) {
	t.Helper()
	r, err := newRunner(target)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := r.probe(ctx); err != nil {
		t.Fatal(err)
	}
	defer r.finish()
	if !r.control {
		t.Logf("conformance: %s serves no /_mock/ control plane: the cases that need it are skipped", r.base)
	}
	for _, k := range suite {
		t.Run(k.name, func(t *testing.T) {
			res := r.runCase(ctx, k)
			switch res.Status {
			case Fail:
				t.Error(res.Message)
			case Skip:
				t.Skip(res.Message)
			}
		})
	}
}
