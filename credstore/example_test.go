package credstore_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/dyor-exchange/dyorctl/client"
	"github.com/dyor-exchange/dyorctl/credstore"
	"github.com/dyor-exchange/dyorctl/mock"
)

// A Go program logs in through the file store; dyorctl, or another
// program, finds the login there.
func ExampleStore_ForServer() {
	srv := mock.NewServer(mock.WithBcryptCost(4))
	defer srv.Close()
	dir, err := os.MkdirTemp("", "dyorctl-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()

	store, err := credstore.Open(dir) // usually credstore.DefaultDir()
	if err != nil {
		log.Fatal(err)
	}
	c, err := client.New(srv.URL, client.WithTokenStore(store.ForServer(srv.URL)))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.Login(ctx, "john@API", "honeyBunnies"); err != nil {
		log.Fatal(err)
	}

	// Somewhere else, later: the same file, another Store.
	again, err := credstore.Open(dir)
	if err != nil {
		log.Fatal(err)
	}
	accounts, err := again.Accounts()
	if err != nil {
		log.Fatal(err)
	}
	for _, a := range accounts {
		fmt.Printf("%s active=%v valid=%v\n", a.Username, a.Active, a.Tokens.Refreshable(time.Now()))
	}
	fi, err := os.Stat(again.Path())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(fi.Mode())
	// Output:
	// john@API active=true valid=true
	// -rw-------
}
