package mock_test

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/dyor-exchange/dyorctl/mock"
)

// Parallel workers sharing one server each take a tenant: an isolated mock
// under URL/t/{id}, with its own accounts, tokens, clock and faults.
func ExampleServer_NewTenant() {
	srv := mock.NewServer(mock.WithBcryptCost(4))
	defer srv.Close()

	worker, err := srv.NewTenant()
	if err != nil {
		panic(err)
	}
	defer worker.Close()
	_ = worker.AddFault(mock.Fault{Route: "login", Status: 503, Times: 1})

	login := func(base string) string {
		resp, err := http.Post(base+mock.LoginPath, "application/json",
			strings.NewReader(`{"username":"john@API","password":"honeyBunnies"}`))
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		return resp.Status
	}
	fmt.Println("tenant:", login(worker.URL))
	fmt.Println("root:  ", login(srv.URL)) // the tenant's fault is its own
	fmt.Println("tenant:", login(worker.URL))
	// Output:
	// tenant: 503 Service Unavailable
	// root:   200 OK
	// tenant: 200 OK
}
