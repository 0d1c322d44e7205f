package client_test

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dyor-exchange/dyorctl/client"
	"github.com/dyor-exchange/dyorctl/mock"
)

// localClock is this machine's clock in a test: the real time plus an
// offset the test moves.
type localClock struct{ offset atomic.Int64 }

func (c *localClock) now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *localClock) advance(d time.Duration) { c.offset.Add(int64(d)) }

func TestClockOffsetFromDate(t *testing.T) {
	t.Parallel()
	received := time.Date(2026, 12, 1, 9, 0, 0, 200*int(time.Millisecond), time.UTC)
	dated := func(d time.Time) http.Header {
		return http.Header{"Date": {d.UTC().Format(http.TimeFormat)}}
	}
	tests := []struct {
		name   string
		h      http.Header
		want   time.Duration
		wantOK bool
	}{
		{"same clock", dated(received), 0, true},
		{"server 42 s ahead", dated(received.Add(42 * time.Second)), 42*time.Second + 300*time.Millisecond, true},
		{"server 5 min behind", dated(received.Add(-5 * time.Minute)), -5*time.Minute + 300*time.Millisecond, true},
		{"no Date", http.Header{}, 0, false},
		{"Date that does not parse", http.Header{"Date": {"yesterday"}}, 0, false},
	}
	for _, tt := range tests {
		got, ok := client.ClockOffset(tt.h, received)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("%s: ClockOffset = %v, %v; want %v, %v", tt.name, got, ok, tt.want, tt.wantOK)
		}
	}
}

// A server whose clock is ahead of ours: the tokens' times are on its
// clock, so without the offset the client would refresh too late and
// present an expired access token.
func TestSkewServerAhead(t *testing.T) {
	t.Parallel()
	srv := startMock(t, mock.WithAccessTTL(15*time.Minute))
	local := &localClock{}
	local.advance(-20 * time.Minute) // our clock is 20 minutes behind the server's
	c, err := client.New(srv.URL, client.WithClock(local.now))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := c.Login(t.Context(), mock.ExampleUsername, mock.ExamplePassword)
	if err != nil {
		t.Fatal(err)
	}
	if off := tok.ClockOffset; off < 19*time.Minute || off > 21*time.Minute {
		t.Fatalf("ClockOffset = %v, want about +20m", off)
	}
	if left := tok.AccessExpiresAt.Sub(tok.ServerNow(local.now())); left < 14*time.Minute || left > 15*time.Minute+2*time.Second {
		t.Errorf("on the server's clock the access token has %v left, want about 15m", left)
	}

	// 14.5 minutes pass on both clocks: 30 s left on the server's clock,
	// within the 60 s margin (by our clock alone it would be 20.5 min).
	local.advance(14*time.Minute + 30*time.Second)
	if err := srv.Advance(14*time.Minute + 30*time.Second); err != nil {
		t.Fatal(err)
	}
	access, err := c.AccessToken(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if access == tok.Access {
		t.Error("AccessToken handed out the token that expires in 30 s on the server's clock")
	}
	if n := len(requests(srv, "/api/v1/account/refresh")); n != 1 {
		t.Errorf("%d refreshes, want 1", n)
	}
	after, _ := c.Tokens(t.Context())
	if off := after.ClockOffset; off < 19*time.Minute || off > 21*time.Minute {
		t.Errorf("after the refresh ClockOffset = %v, want about +20m still", off)
	}
}

// A server whose clock is behind ours: by our clock its tokens are born
// expired; on its clock they are fresh, and no refresh is needed.
func TestSkewServerBehind(t *testing.T) {
	t.Parallel()
	srv := startMock(t, mock.WithAccessTTL(15*time.Minute),
		mock.WithClock(func() time.Time { return time.Now().Add(-20 * time.Minute) }))
	c, err := client.New(srv.URL, client.WithClock(time.Now))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := c.Login(t.Context(), mock.ExampleUsername, mock.ExamplePassword)
	if err != nil {
		t.Fatal(err)
	}
	if off := tok.ClockOffset; off > -19*time.Minute || off < -21*time.Minute {
		t.Fatalf("ClockOffset = %v, want about -20m", off)
	}
	if !tok.AccessExpiresAt.Before(time.Now()) {
		t.Fatal("the test needs an access token that looks expired by the local clock")
	}
	access, err := c.AccessToken(t.Context())
	if err != nil {
		t.Fatalf("AccessToken: %v", err)
	}
	if access != tok.Access {
		t.Error("AccessToken refreshed a token that is fresh on the server's clock")
	}
	if n := len(requests(srv, "/api/v1/account/refresh")); n != 0 {
		t.Errorf("%d refreshes, want none", n)
	}
	if err := c.Logout(t.Context()); err != nil {
		t.Errorf("Logout: %v", err)
	}
	if got := requests(srv, "/api/v1/account/logout"); len(got) != 1 || got[0].Status != 200 {
		t.Errorf("logout requests %+v, want one answered 200 (with the access token)", got)
	}
}
