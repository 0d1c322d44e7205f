package conformance_test

import (
	"testing"

	"github.com/dyor-exchange/dyorctl/conformance"
	"github.com/dyor-exchange/dyorctl/mock"
)

// dyormock keeps the contract: every case passes against it.
func TestMockConforms(t *testing.T) {
	srv := mock.Start(t, mock.WithBcryptCost(4))
	conformance.Run(t, conformance.Target{URL: srv.URL, Rate: -1})
}
