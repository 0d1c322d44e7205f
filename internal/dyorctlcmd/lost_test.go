package dyorctlcmd

import (
	"testing"
	"time"

	"github.com/dyor-exchange/dyorctl/mock"
)

// A refresh whose answer was lost may have rotated the session on the
// server: no command sends it again by itself, and the stored pair is kept.
func TestLostRefreshIsNotResent(t *testing.T) {
	t.Parallel()
	for _, fault := range []mock.Fault{
		{Route: "refresh", Drop: true, Times: 1},
		{Route: "refresh", Truncate: true, Times: 1},
	} {
		for _, args := range [][]string{{"token"}, {"refresh"}, {"exec", "--", "true"}} {
			c := newCLI(t)
			c.login(john, johnPW)
			before, _ := c.stored(john)
			c.later(15 * time.Minute) // the access token needs a refresh
			if err := c.srv.AddFault(fault); err != nil {
				t.Fatal(err)
			}
			r := c.run("", args...)
			wantExit(t, r, 6)
			if r.stdout != "" {
				t.Errorf("%v: stdout %q", args, r.stdout)
			}
			if n := len(requestsTo(c.srv, mock.RefreshPath)); n != 1 {
				t.Errorf("%v with %+v: %d refresh requests, want exactly 1", args, fault, n)
			}
			if after, ok := c.stored(john); !ok || after.Tokens.Refresh != before.Tokens.Refresh {
				t.Errorf("%v: the stored pair was not kept", args)
			}
		}
	}
}

// The same for dyorctl api: a refresh after a 401003 whose answer is lost
// ends the command, and the request is not sent again.
func TestAPILostRefreshNoReplay(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	b.logIn(time.Minute)
	if err := b.srv.Advance(2 * time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := b.srv.AddFault(mock.Fault{Route: "refresh", Drop: true, Times: 1}); err != nil {
		t.Fatal(err)
	}
	r := b.api("", "api", "/api/v1/echo", "-d", `{"pay":1}`)
	wantExit(t, r, 6)
	if n := len(b.hitList()); n != 1 {
		t.Errorf("the request was sent %d times, want once", n)
	}
	if n := len(requestsTo(b.srv, mock.RefreshPath)); n != 1 {
		t.Errorf("%d refresh requests, want exactly 1", n)
	}
}

func requestsTo(srv *mock.Server, path string) []mock.Request {
	var out []mock.Request
	for _, r := range srv.Requests() {
		if r.Path == path {
			out = append(out, r)
		}
	}
	return out
}
