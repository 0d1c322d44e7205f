package dyorctlcmd

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dyor-exchange/dyorctl/mock"
)

func TestTokenMinTTL(t *testing.T) {
	t.Parallel()
	t.Run("stored token lives long enough", func(t *testing.T) {
		t.Parallel()
		c := newCLI(t)
		c.login(john, johnPW)
		before, _ := c.stored(john)
		r := c.run("", "token", "--min-ttl", "10m")
		wantExit(t, r, 0)
		if strings.TrimSpace(r.stdout) != before.Tokens.Access {
			t.Error("token --min-ttl 10m did not print the stored token that lives 15m")
		}
		if n := countRequests(c.srv, "refresh", 200); n != 0 {
			t.Errorf("%d refreshes, want none", n)
		}
	})
	t.Run("refreshes when the stored token is too short", func(t *testing.T) {
		t.Parallel()
		c := newCLI(t)
		c.login(john, johnPW)
		before, _ := c.stored(john)
		c.later(6 * time.Minute) // 9 minutes left: enough for the margin, not for 10m

		r := c.run("", "token")
		wantExit(t, r, 0)
		if strings.TrimSpace(r.stdout) != before.Tokens.Access {
			t.Error("token without --min-ttl refreshed a token with 9 minutes left")
		}
		r = c.run("", "token", "--min-ttl", "10m")
		wantExit(t, r, 0)
		after, _ := c.stored(john)
		got := strings.TrimSpace(r.stdout)
		if got == before.Tokens.Access || got != after.Tokens.Access {
			t.Errorf("token --min-ttl 10m printed %q, want the new stored token", got)
		}
		if left := after.Tokens.AccessExpiresAt.Sub(c.srv.Now()); left < 10*time.Minute {
			t.Errorf("the printed token lives %v more, want at least 10m", left)
		}
		if n := countRequests(c.srv, "refresh", 200); n != 1 {
			t.Errorf("%d refreshes, want 1", n)
		}
	})
	t.Run("longer than the server's tokens live", func(t *testing.T) {
		t.Parallel()
		c := newCLI(t, mock.WithAccessTTL(5*time.Minute))
		c.login(john, johnPW)
		r := c.run("", "token", "--min-ttl", "1h")
		wantExit(t, r, 1)
		if !strings.Contains(r.stderr, "live 5m 0s, so none stays valid for --min-ttl 1h") || r.stdout != "" {
			t.Errorf("stdout %q, stderr %q; want no token and the reason", r.stdout, r.stderr)
		}
		if n := len(c.srv.Requests()); n != 1 {
			t.Errorf("%d requests to the server (login included), want no refresh", n)
		}
	})
	t.Run("DYOR_TOKEN too short", func(t *testing.T) {
		t.Parallel()
		c := newCLI(t)
		_, m := c.saveMinted(john, 2*time.Minute, 0)
		c.env["DYOR_TOKEN"] = m.Access
		wantExit(t, c.run("", "token", "--min-ttl", "1m"), 0)
		r := c.run("", "token", "--min-ttl", "5m")
		wantExit(t, r, 4)
		if r.stdout != "" || !strings.Contains(r.stderr, "sooner than --min-ttl 5m") {
			t.Errorf("stdout %q, stderr %q", r.stdout, r.stderr)
		}
	})
	for _, bad := range []string{"ten minutes", "10", "-5m", "0s"} {
		t.Run("bad value "+bad, func(t *testing.T) {
			t.Parallel()
			c := newCLI(t)
			r := c.run("", "token", "--min-ttl", bad)
			wantExit(t, r, 2)
			if !strings.Contains(r.stderr, "--min-ttl") || !strings.Contains(r.stderr, "duration") {
				t.Errorf("stderr %q does not say --min-ttl wants a duration", r.stderr)
			}
		})
	}
}

// The mock's clock is 20 minutes behind ours: by our clock alone its
// 15-minute tokens are born expired.
func TestSkewServerBehindCLI(t *testing.T) {
	t.Parallel()
	c := newCLI(t, mock.WithClock(func() time.Time { return time.Now().Add(-20 * time.Minute) }))
	c.login(john, johnPW)
	acc, _ := c.stored(john)
	if off := acc.Tokens.ClockOffset; off > -19*time.Minute || off < -21*time.Minute {
		t.Fatalf("stored clock offset %v, want about -20m", off)
	}

	r := c.run("", "token")
	wantExit(t, r, 0)
	if strings.TrimSpace(r.stdout) != acc.Tokens.Access {
		t.Error("token did not print the stored token, fresh on the server's clock")
	}
	if n := countRequests(c.srv, "refresh", 200); n != 0 {
		t.Errorf("%d refreshes, want none", n)
	}

	r = c.run("", "status")
	wantExit(t, r, 0)
	// Date counts whole seconds: the offset is known to about a second.
	if !regexp.MustCompile(`access token:  expires in (14m 5\ds|15m 0s)`).MatchString(r.stdout) ||
		!regexp.MustCompile(`server clock:  (19m 5\ds|20m [0-2]s) behind this machine's`).MatchString(r.stdout) {
		t.Errorf("status does not show the server-clock expiry and offset:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "Warning: the server's clock is") || !strings.Contains(r.stderr, "behind this machine's") {
		t.Errorf("status stderr %q, want the skew warning", r.stderr)
	}

	r = c.run("", "status", "-o", "json")
	wantExit(t, r, 0)
	accs := decodeJSON(t, r.stdout)["accounts"].([]any)
	a := accs[0].(map[string]any)
	if off, _ := a["clock_offset_seconds"].(float64); off > -19*60 || off < -21*60 || a["valid"] != true {
		t.Errorf("status JSON account %v, want valid with clock_offset_seconds about -1200", a)
	}
}

// The mock's clock is 10 minutes ahead: by our clock alone a token has 10
// minutes more than it really has.
func TestSkewServerAheadCLI(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	if err := c.srv.Advance(10 * time.Minute); err != nil {
		t.Fatal(err)
	}
	c.login(john, johnPW)
	before, _ := c.stored(john)
	if off := before.Tokens.ClockOffset; off < 9*time.Minute || off > 11*time.Minute {
		t.Fatalf("stored clock offset %v, want about +10m", off)
	}

	// Two minutes pass on both clocks: 13 minutes left on the server's
	// clock, 23 by ours.
	if err := c.srv.Advance(2 * time.Minute); err != nil {
		t.Fatal(err)
	}
	c.now = func() time.Time { return time.Now().Add(2 * time.Minute) }
	r := c.run("", "token", "--min-ttl", "14m")
	wantExit(t, r, 0)
	after, _ := c.stored(john)
	if got := strings.TrimSpace(r.stdout); got == before.Tokens.Access || got != after.Tokens.Access {
		t.Error("token --min-ttl 14m kept a token with 13 minutes left on the server's clock")
	}

	r = c.run("", "status", "-o", "json")
	wantExit(t, r, 0)
	if !strings.Contains(r.stderr, "ahead of this machine's") {
		t.Errorf("status stderr %q, want the skew warning", r.stderr)
	}
	a := decodeJSON(t, r.stdout)["accounts"].([]any)[0].(map[string]any)
	if off, _ := a["clock_offset_seconds"].(float64); off < 9*60 || off > 11*60 {
		t.Errorf("clock_offset_seconds %v, want about 600", a["clock_offset_seconds"])
	}
}

func TestStatusNoSkewNoWarning(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.login(john, johnPW)
	r := c.run("", "status", "-o", "json")
	wantExit(t, r, 0)
	if r.stderr != "" {
		t.Errorf("status stderr %q with clocks that agree", r.stderr)
	}
	a := decodeJSON(t, r.stdout)["accounts"].([]any)[0].(map[string]any)
	if a["clock_offset_seconds"] != 0.0 {
		t.Errorf("clock_offset_seconds %v, want 0", a["clock_offset_seconds"])
	}
}

// refresh and switch speak of expiry on the server's clock too.
func TestSkewRefreshAndSwitch(t *testing.T) {
	t.Parallel()
	// The mock's refresh tokens live 10 minutes and its clock is 20
	// minutes behind ours: by our clock every session is expired.
	c := newCLI(t, mock.WithRefreshTTL(10*time.Minute),
		mock.WithClock(func() time.Time { return time.Now().Add(-20 * time.Minute) }))
	c.login(john, johnPW)
	r := c.run("", "refresh")
	wantExit(t, r, 0)
	if !strings.Contains(r.stderr, "the access token expires in 14m") && !strings.Contains(r.stderr, "the access token expires in 15m") {
		t.Errorf("refresh stderr %q, want the expiry on the server's clock", r.stderr)
	}
	if acc, _ := c.stored(john); acc.Tokens.ClockOffset > -19*time.Minute || acc.Tokens.ClockOffset < -21*time.Minute {
		t.Errorf("after refresh the stored clock offset is %v, want about -20m", acc.Tokens.ClockOffset)
	}
	if _, err := c.srv.AddAccount("alice", "password-of-alice"); err != nil {
		t.Fatal(err)
	}
	c.login("alice", "password-of-alice")
	r = c.run("", "switch", "-u", john)
	wantExit(t, r, 0)
	if strings.Contains(r.stderr, "expired") {
		t.Errorf("switch stderr %q: the session is valid on the server's clock", r.stderr)
	}
}
