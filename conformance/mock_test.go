package conformance_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dyor-exchange/dyorctl/conformance"
	"github.com/dyor-exchange/dyorctl/mock"
)

// dyormock keeps the contract: every case passes against it.
func TestMockConforms(t *testing.T) {
	srv := mock.Start(t, mock.WithBcryptCost(4))
	conformance.Run(t, conformance.Target{URL: srv.URL, Rate: -1})
}

// A target whose base URL has a path of its own (a gateway's prefix, a
// dyormock tenant) is checked against the contract's paths under it.
func TestMockUnderAPathConforms(t *testing.T) {
	srv := mock.Start(t, mock.WithBcryptCost(4))
	hs := httptest.NewServer(http.StripPrefix("/gateway/dyor", srv.Handler()))
	t.Cleanup(hs.Close)
	rep, err := conformance.Check(context.Background(), conformance.Target{URL: hs.URL + "/gateway/dyor/", Rate: -1}, conformance.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed != 0 || rep.Skipped != 0 || !rep.ControlPlane {
		for _, r := range rep.Results {
			if r.Status != conformance.Pass {
				t.Error(r.Line())
			}
		}
		t.Fatal(rep.Summary())
	}
}

// A target URL with user information is refused without quoting it: the
// password in it must not reach a log.
func TestTargetURLWithAPasswordIsNotQuoted(t *testing.T) {
	t.Parallel()
	_, err := conformance.Check(t.Context(), conformance.Target{URL: "http://u:Secret-Pass-42@127.0.0.1:1"}, conformance.Options{})
	if !errors.Is(err, conformance.ErrTarget) || strings.Contains(err.Error(), "Secret-Pass-42") {
		t.Fatalf("Check = %v; want ErrTarget without the password", err)
	}
}
