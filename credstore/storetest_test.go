package credstore_test

import (
	"testing"

	"github.com/dyor-exchange/dyorctl/client"
	"github.com/dyor-exchange/dyorctl/client/storetest"
	"github.com/dyor-exchange/dyorctl/credstore"
)

// The file store of one server keeps the TokenStore contract.
func TestServerStoreContract(t *testing.T) {
	t.Parallel()
	storetest.TestStore(t, func(t *testing.T) client.TokenStore {
		st, err := credstore.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return st.ForServer("http://127.0.0.1:8080")
	})
}
