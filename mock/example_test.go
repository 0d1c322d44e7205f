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

// A refresh whose answer is lost after the server rotated: the client sees
// the connection close, the journal says the server did the work.
func ExampleFault_after() {
	srv := mock.NewServer(mock.WithBcryptCost(4))
	defer srv.Close()

	m, err := srv.MintSession(mock.ExampleUsername, 0, 0)
	if err != nil {
		panic(err)
	}
	_ = srv.AddFault(mock.Fault{Route: "refresh", Drop: true, After: true, Times: 1})
	req, _ := http.NewRequest("GET", srv.URL+mock.RefreshPath, nil)
	req.Header.Set("Authorization", "Bearer "+m.Refresh)
	if _, err := http.DefaultClient.Do(req); err != nil {
		fmt.Println("the client got no answer")
	}
	r := srv.Requests()[0]
	fmt.Printf("the client received status %d; the server answered %d\n", r.Status, r.Handled.Status)
	fmt.Println("the old session is live:", srv.Sessions()[0].ID == m.SessionID)
	fmt.Println(srv.Findings()[0].Kind) // the refresh of a fresh token
	// Output:
	// the client got no answer
	// the client received status 0; the server answered 200
	// the old session is live: false
	// early-refresh
}
