package mock_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/dyor-exchange/dyorctl/mock"
)

// A test that needs a server failing twice, then answering: a fault rule
// for the next two logins.
func ExampleServer_AddFault() {
	srv := mock.NewServer(mock.WithBcryptCost(4))
	defer srv.Close()

	_ = srv.AddFault(mock.Fault{Route: "login", Status: 503, Times: 2})
	for range 3 {
		resp, err := http.Post(srv.URL+mock.LoginPath, "application/json",
			strings.NewReader(`{"username":"john@API","password":"honeyBunnies"}`))
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		fmt.Println(resp.Status)
	}
	// Output:
	// 503 Service Unavailable
	// 503 Service Unavailable
	// 200 OK
}

// A test of what happens when the access token expires, without waiting:
// mint a session and move the server's clock past the access token's life.
func ExampleServer_Advance() {
	srv := mock.NewServer(mock.WithBcryptCost(4))
	defer srv.Close()

	m, err := srv.MintSession(mock.ExampleUsername, time.Minute, 0)
	if err != nil {
		panic(err)
	}
	call := func(method, path, token string) string {
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode == http.StatusOK {
			return resp.Status
		}
		return resp.Status + " " + strings.TrimSpace(string(b))
	}

	_ = srv.Advance(2 * time.Minute)
	fmt.Println("logout with the access token:", call("DELETE", mock.LogoutPath, m.Access))
	fmt.Println("refresh:", call("GET", mock.RefreshPath, m.Refresh))
	// Output:
	// logout with the access token: 401 Unauthorized {"ok":false,"error":{"code":401003,"message":"token expired"}}
	// refresh: 200 OK
}
