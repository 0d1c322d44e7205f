package client_test

import (
	"testing"

	"github.com/dyor-exchange/dyorctl/client"
	"github.com/dyor-exchange/dyorctl/client/storetest"
)

func TestMemoryStoreContract(t *testing.T) {
	t.Parallel()
	storetest.TestStore(t, func(*testing.T) client.TokenStore { return client.NewMemoryStore() })
}
