package client_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/dyor-exchange/dyorctl/client"
	"github.com/dyor-exchange/dyorctl/mock"
)

// A server whose clock is five minutes ahead of this machine's: Login
// measures the offset from the answer's Date header, and ServerNow turns
// this machine's time into the server's, which the tokens' times are on.
func ExampleTokens_ServerNow() {
	srv := mock.NewServer(mock.WithBcryptCost(4),
		mock.WithClock(func() time.Time { return time.Now().Add(5 * time.Minute) }))
	defer srv.Close()

	c, err := client.New(srv.URL)
	if err != nil {
		log.Fatal(err)
	}
	tokens, err := c.Login(context.Background(), mock.ExampleUsername, mock.ExamplePassword)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("server clock ahead by:", tokens.ClockOffset.Round(time.Minute))
	left := tokens.AccessExpiresAt.Sub(tokens.ServerNow(time.Now()))
	fmt.Println("access token left:", left.Round(time.Minute))
	// Output:
	// server clock ahead by: 5m0s
	// access token left: 15m0s
}
