package mock_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/dyor-exchange/dyorctl/api"
	"github.com/dyor-exchange/dyorctl/mock"
)

// Many goroutines register, log in, refresh and log out at once; afterwards
// every session still held works and every one ended does not.
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	s := start(t, mock.WithNoSeed())
	const workers, rounds = 16, 6
	type outcome struct {
		live  []pair // still held
		ended []pair // logged out or rotated away
	}
	results := make([]outcome, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			name := fmt.Sprintf("worker-%02d", w)
			s.do("POST", "/api/v1/account/register", credsJSON(name, "password-"+name)).wantOK(t)
			out := &results[w]
			for r := range rounds {
				p := s.login(name, "password-"+name)
				a := s.refresh(p.Refresh)
				a.wantOK(t)
				next := a.pair(t)
				out.ended = append(out.ended, p)
				if r%2 == 0 {
					s.logout(next.Access).wantOK(t)
					out.ended = append(out.ended, next)
				} else {
					out.live = append(out.live, next)
				}
			}
		})
	}
	wg.Wait()

	live := 0
	for _, out := range results {
		for _, p := range out.ended {
			s.logout(p.Access).wantError(t, 401004)
		}
		live += len(out.live)
	}
	if n := len(s.Sessions()); n != live {
		t.Fatalf("%d live sessions on the server, the test holds %d", n, live)
	}
	for _, out := range results {
		for _, p := range out.live {
			s.refresh(p.Refresh).wantOK(t)
		}
	}
}

// The same refresh token presented by many goroutines at once: exactly one
// rotation wins, every other presentation is reuse, and the winner's new
// session is revoked by that reuse.
func TestConcurrentRefreshOfOneToken(t *testing.T) {
	t.Parallel()
	s := start(t)
	p := s.login("john@API", "honeyBunnies")
	const n = 20
	codes := make([]api.Code, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			a := s.refresh(p.Refresh)
			if a.status == 200 {
				codes[i] = 0
			} else {
				codes[i] = a.env.Error.Code
			}
		})
	}
	wg.Wait()
	wins := 0
	for _, c := range codes {
		switch c {
		case 0:
			wins++
		case 401004:
		default:
			t.Fatalf("unexpected code %d", c)
		}
	}
	if wins != 1 {
		t.Fatalf("%d refreshes of one token succeeded, want exactly 1", wins)
	}
	if n := len(s.Sessions()); n != 0 {
		t.Fatalf("%d live sessions after reuse, want 0 (the chain is revoked)", n)
	}
}
