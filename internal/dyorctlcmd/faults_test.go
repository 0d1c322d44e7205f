package dyorctlcmd

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dyor-exchange/dyorctl/client"
	"github.com/dyor-exchange/dyorctl/mock"
)

// A refresh whose answer is lost after the server rotated exits 6 and keeps
// the tokens. What comes next is defined by the server's policy: strict,
// the next use is refused and the user is told to log in again (exit 4,
// one request, no loop); with a grace, the next "dyorctl token" recovers
// the session.
func TestTokenAfterARefreshAnswerLostAfterRotation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		grace time.Duration
	}{{"strict", 0}, {"grace", time.Minute}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opts := []mock.Option{mock.WithRefreshGrace(tc.grace), mock.FailOnFindings()}
			if tc.grace == 0 {
				// Strict, dyorctl cannot help presenting the token the
				// server rotated without telling it.
				opts = append(opts, mock.FailOnFindings(mock.FindingExpiredToken, mock.FindingEarlyRefresh, mock.FindingSessionLeak))
			}
			c := newCLI(t, opts...)
			c.login(john, johnPW)
			before, _ := c.stored(john)
			c.later(16 * time.Minute)
			if err := c.srv.AddFault(mock.Fault{Route: "refresh", Drop: true, After: true, Times: 1}); err != nil {
				t.Fatal(err)
			}
			r := c.run("", "token")
			wantExit(t, r, 6)
			if r.stdout != "" || !strings.Contains(r.stderr, "cannot reach "+c.srv.URL) {
				t.Errorf("output %q / %q", r.stdout, r.stderr)
			}
			if after, ok := c.stored(john); !ok || after.Tokens.Refresh != before.Tokens.Refresh {
				t.Fatal("the tokens were not kept after a lost answer")
			}
			live := c.srv.Sessions()
			if len(live) != 1 || live[0].ID == before.Tokens.SessionID {
				t.Fatalf("sessions %+v: the server did not rotate", live)
			}

			r = c.run("", "token")
			if n := len(c.srv.RequestsWhere(mock.RequestFilter{Route: "refresh"})); n != 2 {
				t.Errorf("%d refreshes in all, want 2 (one each run)", n)
			}
			if tc.grace == 0 {
				wantExit(t, r, 4)
				if !strings.Contains(r.stderr, `dyorctl login -u `+john) {
					t.Errorf("stderr %q does not tell the user to log in again", r.stderr)
				}
				if r := c.run("", "token"); r.code != 4 || len(c.srv.RequestsWhere(mock.RequestFilter{Route: "refresh"})) != 2 {
					t.Errorf("after the refusal: exit %d, another refresh sent: %q", r.code, r.stderr)
				}
				return
			}
			wantExit(t, r, 0)
			printed, err := client.ParseTokens(strings.TrimSpace(r.stdout), strings.TrimSpace(r.stdout))
			if err != nil || printed.SessionID != live[0].ID {
				t.Fatalf("token printed %q (%v); want the rotated session %s", r.stdout, err, live[0].ID)
			}
			if after, _ := c.stored(john); after.Tokens.SessionID != live[0].ID {
				t.Error("the recovered session was not stored")
			}
		})
	}
}

// Two dyorctl processes that both need a fresh token take turns on the
// credentials file and send one refresh: a collision rule waiting for a
// second refresh lets the one it got go alone at its timeout.
func TestTwoTokenRunsSendOneRefreshUnderCollision(t *testing.T) {
	t.Parallel()
	c := newCLI(t, mock.FailOnFindings())
	c.login(john, johnPW)
	c.later(16 * time.Minute)
	if err := c.srv.AddFault(mock.Fault{Route: "refresh", Collide: 2, Timeout: 300 * time.Millisecond, Times: 1}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	results := make([]result, 2)
	for i := range results {
		wg.Go(func() { results[i] = c.run("", "token") })
	}
	wg.Wait()
	for _, r := range results {
		wantExit(t, r, 0)
	}
	if results[0].stdout != results[1].stdout {
		t.Error("the two runs printed different tokens")
	}
	j := c.srv.RequestsWhere(mock.RequestFilter{Route: "refresh"})
	if len(j) != 1 || j[0].Collision != mock.CollisionTimeout || j[0].Status != 200 {
		t.Fatalf("refreshes = %+v; want one, let go alone at the timeout", j)
	}
}

// Where dyorctl decides to refresh ("token", and the commands that need a
// valid access token), it never does so while the access token has more
// than half its lifetime.
func TestAutomaticRefreshIsNeverEarly(t *testing.T) {
	t.Parallel()
	c := newCLI(t, mock.FailOnFindings())
	c.login(john, johnPW)
	for range 20 { // four lifetimes of 15m
		for _, args := range [][]string{{"token"}, {"status"}} {
			if r := c.run("", args...); r.code != 0 {
				t.Fatalf("%v: exit %d, %q", args, r.code, r.stderr)
			}
		}
		c.later(3 * time.Minute)
	}
	if n := len(c.srv.RequestsWhere(mock.RequestFilter{Route: "refresh"})); n < 3 {
		t.Fatalf("%d refreshes over four lifetimes", n)
	}
}
