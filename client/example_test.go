package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"time"

	"github.com/dyor-exchange/dyorctl/client"
	"github.com/dyor-exchange/dyorctl/mock"
)

// The main flow: register, log in, use and refresh the tokens, log out.
func Example() {
	srv := mock.NewServer(mock.WithBcryptCost(4))
	defer srv.Close()
	ctx := context.Background()

	c, err := client.New(srv.URL)
	if err != nil {
		log.Fatal(err)
	}
	if err := c.Register(ctx, "alice", "correct horse"); err != nil {
		log.Fatal(err)
	}
	tokens, err := c.Login(ctx, "alice", "correct horse")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("logged in as", tokens.Username)

	access, err := c.AccessToken(ctx) // still fresh: no request
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("access token is the login's:", access == tokens.Access)

	rotated, err := c.Refresh(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("new session after refresh:", rotated.SessionID != tokens.SessionID)

	if err := c.Logout(ctx); err != nil {
		log.Fatal(err)
	}
	_, err = c.Tokens(ctx)
	fmt.Println("logged out:", errors.Is(err, client.ErrNotLoggedIn))
	// Output:
	// logged in as alice
	// access token is the login's: true
	// new session after refresh: true
	// logged out: true
}

// Errors from the server match the package's sentinels.
func ExampleClient_Login_errors() {
	srv := mock.NewServer(mock.WithBcryptCost(4))
	defer srv.Close()
	ctx := context.Background()
	c, err := client.New(srv.URL)
	if err != nil {
		log.Fatal(err)
	}

	_, err = c.Login(ctx, "john@API", "not the password")
	switch {
	case errors.Is(err, client.ErrWrongPassword):
		fmt.Println("wrong password:", err)
	case errors.Is(err, client.ErrAccountNotFound):
		fmt.Println("no such account:", err)
	case err != nil:
		fmt.Println("other error:", err)
	}

	var apiErr *client.APIError
	if errors.As(err, &apiErr) {
		fmt.Println("status", apiErr.Status, "code", apiErr.Code)
	}
	// Output:
	// wrong password: wrong password (401005)
	// status 401 code 401005
}

// AccessToken refreshes the access token when it is about to expire.
func ExampleClient_AccessToken() {
	srv := mock.NewServer(mock.WithBcryptCost(4))
	defer srv.Close()
	ctx := context.Background()

	// The client reads expiry on the server's clock, which the example
	// moves forward past the access token's 15 minutes.
	c, err := client.New(srv.URL, client.WithClock(srv.Now))
	if err != nil {
		log.Fatal(err)
	}
	tokens, err := c.Login(ctx, "john@API", "honeyBunnies")
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Advance(16 * time.Minute); err != nil {
		log.Fatal(err)
	}

	access, err := c.AccessToken(ctx)
	if err != nil {
		log.Fatal(err)
	}
	stored, _ := c.Tokens(ctx)
	fmt.Println("refreshed:", access != tokens.Access)
	fmt.Println("saved before use:", access == stored.Access)
	// Output:
	// refreshed: true
	// saved before use: true
}

// HTTPClient sends the access token with requests for other routes of the
// same server.
func ExampleClient_HTTPClient() {
	srv := mock.NewServer(mock.WithBcryptCost(4))
	defer srv.Close()
	ctx := context.Background()
	c, err := client.New(srv.URL)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.Login(ctx, "john@API", "honeyBunnies"); err != nil {
		log.Fatal(err)
	}

	// Here the logout route itself, called by hand.
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, srv.URL+"/api/v1/account/logout", nil)
	if err != nil {
		log.Fatal(err)
	}
	resp, err := c.HTTPClient().Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.Status, string(body))
	// Output:
	// 200 OK {"ok":true,"result":{}}
}
