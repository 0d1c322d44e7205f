package client_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/dyor-exchange/dyorctl/client"
	"github.com/dyor-exchange/dyorctl/mock"
)

// loginNearExpiry logs c in on srv (so that the refresh that follows goes
// over a connection already used) and moves the server's clock to where
// the access token is due for a refresh, but not early.
func loginNearExpiry(t *testing.T, srv *mock.Server, c *client.Client) client.Tokens {
	t.Helper()
	tok, err := c.Login(t.Context(), mock.ExampleUsername, mock.ExamplePassword)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Advance(45 * time.Second); err != nil { // of a 60s access token
		t.Fatal(err)
	}
	return tok
}

// A refresh whose answer is lost after the server rotated is an error that
// keeps the tokens, and is sent once: never again by the SDK nor by
// net/http. What happens next depends on the server's policy.
func TestRefreshAnswerLostAfterRotation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		grace time.Duration
	}{{"strict", 0}, {"grace", 5 * time.Second}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opts := []mock.Option{mock.WithAccessTTL(time.Minute), mock.WithRefreshGrace(tc.grace), mock.FailOnFindings()}
			if tc.grace == 0 {
				// Strict, the client cannot help presenting the token the
				// server rotated without telling it.
				opts = append(opts, mock.FailOnFindings(mock.FindingExpiredToken, mock.FindingEarlyRefresh, mock.FindingSessionLeak))
			}
			srv := startMock(t, opts...)
			c, err := client.New(srv.URL, client.WithClock(srv.Now))
			if err != nil {
				t.Fatal(err)
			}
			tok := loginNearExpiry(t, srv, c)
			if err := srv.AddFault(mock.Fault{Route: "refresh", Drop: true, After: true, Times: 1}); err != nil {
				t.Fatal(err)
			}
			_, err = c.AccessToken(t.Context())
			if err == nil || errors.Is(err, client.ErrSessionInvalid) {
				t.Fatalf("AccessToken after a lost answer = %v; want an error that keeps the session", err)
			}
			if stored, _ := c.Tokens(t.Context()); stored != tok {
				t.Fatalf("stored tokens changed after a lost answer: %v", stored)
			}
			j := srv.RequestsWhere(mock.RequestFilter{Route: "refresh"})
			if len(j) != 1 || j[0].Status != 0 || j[0].Handled == nil || j[0].Handled.Status != 200 {
				t.Fatalf("refreshes = %+v; want one, rotated and dropped (never sent again)", j)
			}
			rotatedTo := srv.Sessions()[0].ID

			_, err = c.AccessToken(t.Context())
			if tc.grace == 0 {
				// The next use is refused: the session is gone and the
				// tokens with it.
				if !errors.Is(err, client.ErrSessionInvalid) {
					t.Fatalf("strict: the next AccessToken = %v; want ErrSessionInvalid", err)
				}
				if _, err := c.Tokens(t.Context()); !errors.Is(err, client.ErrNotLoggedIn) {
					t.Fatalf("strict: tokens kept after the session was refused: %v", err)
				}
				if n := len(srv.Sessions()); n != 0 {
					t.Fatalf("strict: %d live sessions after the reuse", n)
				}
				return
			}
			// With a grace, the retry gets the pair of the rotation: the
			// session goes on.
			if err != nil {
				t.Fatalf("grace: the next AccessToken = %v", err)
			}
			stored, _ := c.Tokens(t.Context())
			if stored.SessionID != rotatedTo || len(srv.Sessions()) != 1 {
				t.Fatalf("grace: stored session %s, live %+v; want the rotated %s", stored.SessionID, srv.Sessions(), rotatedTo)
			}
		})
	}
}

// Two clients sharing one store (two programs sharing one credentials
// file) that both want a fresh token send one refresh: the collision rule,
// waiting for a second refresh, lets the first go alone at its timeout.
func TestSharedStoreSendsOneRefreshUnderCollision(t *testing.T) {
	t.Parallel()
	srv := startMock(t, mock.WithAccessTTL(time.Minute), mock.FailOnFindings())
	tok := mint(t, srv, 0, 0)
	if err := srv.Advance(45 * time.Second); err != nil {
		t.Fatal(err)
	}
	if err := srv.AddFault(mock.Fault{Route: "refresh", Collide: 2, Timeout: 300 * time.Millisecond, Times: 1}); err != nil {
		t.Fatal(err)
	}
	store := client.NewMemoryStore()
	if err := store.Save(t.Context(), tok); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	got := make([]string, 2)
	for i := range got {
		c, err := client.New(srv.URL, client.WithTokenStore(store), client.WithClock(srv.Now))
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			a, err := c.AccessToken(t.Context())
			if err != nil {
				t.Error(err)
			}
			got[i] = a
		})
	}
	wg.Wait()
	if got[0] != got[1] || got[0] == tok.Access {
		t.Fatal("the two clients hold different access tokens, or the old one")
	}
	j := srv.RequestsWhere(mock.RequestFilter{Route: "refresh"})
	if len(j) != 1 || j[0].Collision != mock.CollisionTimeout || j[0].Status != 200 {
		t.Fatalf("refreshes = %+v; want one, let go alone at the timeout", j)
	}
}

// Where the SDK decides to refresh (AccessToken, HTTPClient), it never does
// so while the access token has more than half its lifetime, whatever that
// lifetime: with the default margin of 60s, and half a short lifetime.
func TestAutomaticRefreshIsNeverEarly(t *testing.T) {
	t.Parallel()
	for _, ttl := range []time.Duration{10 * time.Second, 90 * time.Second, 2 * time.Minute, 15 * time.Minute} {
		t.Run(ttl.String(), func(t *testing.T) {
			t.Parallel()
			srv := startMock(t, mock.WithAccessTTL(ttl), mock.FailOnFindings())
			c, err := client.New(srv.URL, client.WithClock(srv.Now))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Login(t.Context(), mock.ExampleUsername, mock.ExamplePassword); err != nil {
				t.Fatal(err)
			}
			for range 40 { // four lifetimes, a tenth of one at a time
				if _, err := c.AccessToken(t.Context()); err != nil {
					t.Fatal(err)
				}
				if err := srv.Advance(ttl / 10); err != nil {
					t.Fatal(err)
				}
			}
			if n := len(srv.RequestsWhere(mock.RequestFilter{Route: "refresh"})); n < 3 {
				t.Fatalf("%d refreshes over four lifetimes", n)
			}
		})
	}
}
