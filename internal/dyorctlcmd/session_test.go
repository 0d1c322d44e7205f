package dyorctlcmd

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dyor-exchange/dyorctl/client"
	"github.com/dyor-exchange/dyorctl/mock"
)

const (
	john   = mock.ExampleUsername
	johnPW = mock.ExamplePassword
)

// The scripted session of the issue, in process: login, token, refresh,
// status, logout, status.
func TestScriptedSession(t *testing.T) {
	t.Parallel()
	c := newCLI(t)

	r := c.run(johnPW+"\n", "login", "-u", john, "--password-stdin")
	wantExit(t, r, 0)
	if r.stdout != "" {
		t.Errorf("login printed on stdout: %q", r.stdout)
	}
	if want := "Logged in to " + c.srv.URL + " as " + john; !strings.Contains(r.stderr, want) {
		t.Errorf("login stderr %q, want it to say %q", r.stderr, want)
	}
	checkModes(t, c.dir)
	acc, ok := c.stored(john)
	if !ok || !acc.Active {
		t.Fatalf("after login, stored %+v (found %v), want john active", acc, ok)
	}

	r = c.run("", "token")
	wantExit(t, r, 0)
	if got := strings.TrimSpace(r.stdout); got != acc.Tokens.Access {
		t.Errorf("token printed %q, want the stored access token", got)
	}
	if r.stderr != "" {
		t.Errorf("token wrote on stderr: %q", r.stderr)
	}

	r = c.run("", "refresh")
	wantExit(t, r, 0)
	after, _ := c.stored(john)
	if after.Tokens.Refresh == acc.Tokens.Refresh {
		t.Error("refresh did not store a new pair")
	}
	if r.stdout != "" || strings.Contains(r.stderr, after.Tokens.Access) {
		t.Errorf("refresh printed a token or a result on stdout: %q / %q", r.stdout, r.stderr)
	}

	r = c.run("", "status", "-o", "json")
	wantExit(t, r, 0)
	st := decodeJSON(t, r.stdout)
	if st["server"] != c.srv.URL || st["source"] != "store" || st["store"] != filepath.Join(c.dir, "credentials.json") {
		t.Errorf("status JSON %v", st)
	}

	r = c.run("", "logout")
	wantExit(t, r, 0)
	if !strings.Contains(r.stderr, "revoked") {
		t.Errorf("logout stderr %q does not say the session was revoked", r.stderr)
	}
	if len(c.srv.Sessions()) != 0 {
		t.Errorf("sessions after logout: %v", c.srv.Sessions())
	}
	if _, ok := c.stored(john); ok {
		t.Error("logout left the stored entry")
	}

	r = c.run("", "status")
	wantExit(t, r, 4)
	if !strings.Contains(r.stderr, `run "dyorctl login -u`) {
		t.Errorf("status stderr %q", r.stderr)
	}
	for _, cmd := range []string{"token", "refresh", "logout"} {
		r = c.run("", cmd)
		wantExit(t, r, 4)
		if r.stdout != "" {
			t.Errorf("%s printed on stdout when not logged in: %q", cmd, r.stdout)
		}
		if want := "not logged in to " + c.srv.URL; !strings.Contains(r.stderr, want) {
			t.Errorf("%s stderr %q, want %q", cmd, r.stderr, want)
		}
	}
}

// checkModes checks the credentials file is 0600 in a 0700 directory.
func checkModes(t *testing.T, dir string) {
	t.Helper()
	di, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if di.Mode().Perm() != 0o700 {
		t.Errorf("config dir mode %v, want 0700", di.Mode().Perm())
	}
	fi, err := os.Stat(filepath.Join(dir, "credentials.json"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("credentials file mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestJSONOutputs(t *testing.T) {
	t.Parallel()
	c := newCLI(t)

	r := c.run("", "register", "-u", "alice", "-o", "json")
	wantExit(t, r, 2) // no password source: usage error, as JSON too
	e := decodeJSON(t, r.stdout)
	if keys(e) != "error" || keys(e["error"].(map[string]any)) != "api_code,exit_code,message" {
		t.Errorf("error object %v", e)
	}
	if body := e["error"].(map[string]any); body["api_code"] != nil || body["exit_code"] != 2.0 {
		t.Errorf("error object %v, want api_code null and exit_code 2", body)
	}

	c.env["DYOR_PASSWORD"] = "alicePassword"
	r = c.run("", "register", "-u", "alice", "-o", "json")
	wantExit(t, r, 0)
	if obj := decodeJSON(t, r.stdout); keys(obj) != "server,username" || obj["username"] != "alice" || obj["server"] != c.srv.URL {
		t.Errorf("register JSON %v", obj)
	}

	r = c.run("", "login", "-u", "alice", "-o", "json")
	wantExit(t, r, 0)
	login := decodeJSON(t, r.stdout)
	if keys(login) != "access_expires_at,refresh_expires_at,server,session_id,username" {
		t.Errorf("login JSON keys %s", keys(login))
	}
	acc, _ := c.stored("alice")
	if login["session_id"] != acc.Tokens.SessionID || login["username"] != "alice" {
		t.Errorf("login JSON %v, stored %v", login, acc.Tokens)
	}
	for _, k := range []string{"access_expires_at", "refresh_expires_at"} {
		if _, err := time.Parse(time.RFC3339, login[k].(string)); err != nil {
			t.Errorf("%s: %v", k, err)
		}
	}
	noTokens(t, r.stdout+r.stderr, acc.Tokens)

	r = c.run("", "refresh", "-o", "json")
	wantExit(t, r, 0)
	if obj := decodeJSON(t, r.stdout); keys(obj) != "access_expires_at,refresh_expires_at,server,session_id,username" {
		t.Errorf("refresh JSON %v", obj)
	}
	acc, _ = c.stored("alice")
	noTokens(t, r.stdout+r.stderr, acc.Tokens)

	r = c.run("", "switch", "-u", "alice", "-o", "json")
	wantExit(t, r, 0)
	if obj := decodeJSON(t, r.stdout); keys(obj) != "server,username" {
		t.Errorf("switch JSON %v", obj)
	}

	r = c.run("", "status", "-o", "json")
	wantExit(t, r, 0)
	st := decodeJSON(t, r.stdout)
	if keys(st) != "accounts,server,source,store" {
		t.Errorf("status JSON keys %s", keys(st))
	}
	accounts := st["accounts"].([]any)
	if len(accounts) != 1 {
		t.Fatalf("status accounts %v", accounts)
	}
	a := accounts[0].(map[string]any)
	if keys(a) != "access_expires_at,active,clock_offset_seconds,refresh_expires_at,server,session_id,username,valid" ||
		a["active"] != true || a["valid"] != true || a["username"] != "alice" {
		t.Errorf("status account %v", a)
	}
	noTokens(t, r.stdout, acc.Tokens)

	r = c.run("", "logout", "-o", "json")
	wantExit(t, r, 0)
	if obj := decodeJSON(t, r.stdout); keys(obj) != "revoked,server,username" || obj["revoked"] != true {
		t.Errorf("logout JSON %v", obj)
	}

	// status exiting 4 prints the status object, not an error object.
	r = c.run("", "status", "-o", "json")
	wantExit(t, r, 4)
	if obj := decodeJSON(t, r.stdout); keys(obj) != "accounts,server,source,store" || len(obj["accounts"].([]any)) != 0 {
		t.Errorf("status JSON when logged out: %v", obj)
	}

	r = c.run("", "version", "-o", "json")
	wantExit(t, r, 0)
	if obj := decodeJSON(t, r.stdout); !strings.HasPrefix(obj["version"].(string), "dyorctl ") {
		t.Errorf("version JSON %v", obj)
	}
}

// noTokens fails if out contains either token of t.
func noTokens(t *testing.T, out string, tok client.Tokens) {
	t.Helper()
	if tok.Access != "" && strings.Contains(out, tok.Access) || tok.Refresh != "" && strings.Contains(out, tok.Refresh) {
		t.Errorf("output contains a token: %q", out)
	}
}

func TestLoginKeepsOtherAccountsAndEndsEarlierSession(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	if _, err := c.srv.AddAccount("alice", "alicePassword"); err != nil {
		t.Fatal(err)
	}
	c.login(john, johnPW)
	first, _ := c.stored(john)
	c.login("alice", "alicePassword")

	accs := c.accounts() // sorted by username
	if len(accs) != 2 || accs[0].Username != "alice" || !accs[0].Active || accs[1].Username != john || accs[1].Active {
		t.Fatalf("stored accounts %v, want john@API and alice, alice active", accs)
	}

	c.login(john, johnPW)
	second, _ := c.stored(john)
	if !second.Active || second.Tokens.SessionID == first.Tokens.SessionID {
		t.Fatalf("john after second login: %+v", second)
	}
	sessions := map[string]bool{}
	for _, s := range c.srv.Sessions() {
		sessions[s.ID] = true
	}
	if sessions[first.Tokens.SessionID] {
		t.Error("the earlier session of john@API is still live after the new login")
	}
	if !sessions[second.Tokens.SessionID] || len(sessions) != 2 {
		t.Errorf("live sessions %v, want john's new one and alice's", sessions)
	}
}

func TestSwitch(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	if _, err := c.srv.AddAccount("alice", "alicePassword"); err != nil {
		t.Fatal(err)
	}
	c.login(john, johnPW)
	c.login("alice", "alicePassword")

	r := c.run("", "switch", "-u", john)
	wantExit(t, r, 0)
	if a, _ := c.stored(john); !a.Active {
		t.Error("switch did not make john@API active")
	}
	if !strings.Contains(r.stderr, "Switched to "+john) || r.stdout != "" {
		t.Errorf("switch output %q / %q", r.stdout, r.stderr)
	}

	r = c.run("", "switch", "-u", "nobody")
	wantExit(t, r, 4)
	if want := `run "dyorctl login -u nobody"`; !strings.Contains(r.stderr, want) {
		t.Errorf("stderr %q, want %q", r.stderr, want)
	}
	r = c.run("", "switch")
	wantExit(t, r, 2)
}

func TestLogout(t *testing.T) {
	t.Parallel()

	t.Run("leaves no active account", func(t *testing.T) {
		t.Parallel()
		c := newCLI(t)
		if _, err := c.srv.AddAccount("alice", "alicePassword"); err != nil {
			t.Fatal(err)
		}
		c.login("alice", "alicePassword")
		c.login(john, johnPW)
		wantExit(t, c.run("", "logout"), 0)
		accs := c.accounts()
		if len(accs) != 1 || accs[0].Username != "alice" || accs[0].Active {
			t.Fatalf("after logout: %v, want alice stored and not active", accs)
		}
		r := c.run("", "token")
		wantExit(t, r, 4)
		if want := `run "dyorctl switch -u alice"`; !strings.Contains(r.stderr, want) {
			t.Errorf("stderr %q, want %q", r.stderr, want)
		}
	})

	t.Run("local only", func(t *testing.T) {
		t.Parallel()
		c := newCLI(t)
		c.login(john, johnPW)
		r := c.run("", "logout", "--local-only", "-o", "json")
		wantExit(t, r, 0)
		if obj := decodeJSON(t, r.stdout); obj["revoked"] != false {
			t.Errorf("logout --local-only JSON %v", obj)
		}
		if len(c.srv.Sessions()) != 1 {
			t.Error("logout --local-only ended the server session")
		}
		if n := countRequests(c.srv, "logout", 200); n != 0 {
			t.Errorf("logout --local-only sent %d requests", n)
		}
		if len(c.accounts()) != 0 {
			t.Error("logout --local-only left the stored entry")
		}
	})

	t.Run("server error removes the tokens and exits 6", func(t *testing.T) {
		t.Parallel()
		c := newCLI(t)
		c.login(john, johnPW)
		if err := c.srv.AddFault(mock.Fault{Route: "logout", Status: 503}); err != nil {
			t.Fatal(err)
		}
		r := c.run("", "logout")
		wantExit(t, r, 6)
		if !strings.Contains(r.stderr, "server error: 503 Service Unavailable") || !strings.Contains(r.stderr, "removed") {
			t.Errorf("stderr %q", r.stderr)
		}
		if len(c.accounts()) != 0 {
			t.Error("logout kept the tokens after a server error")
		}
	})

	t.Run("session already revoked exits 4", func(t *testing.T) {
		t.Parallel()
		c := newCLI(t)
		c.login(john, johnPW)
		for _, s := range c.srv.Sessions() {
			if err := c.srv.RevokeSession(s.ID); err != nil {
				t.Fatal(err)
			}
		}
		r := c.run("", "logout")
		wantExit(t, r, 4)
		if want := `session expired: run "dyorctl login -u john@API"`; strings.TrimSpace(r.stderr) != want {
			t.Errorf("stderr %q, want %q", r.stderr, want)
		}
		if len(c.accounts()) != 0 {
			t.Error("stale entry kept")
		}
	})
}

// When the server no longer accepts the session: exit 4, nothing on stdout,
// the documented "session expired" sentence, and the stale entry removed.
func TestSessionExpired(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		cmd     string
		breakIt func(c *cli)
	}{
		{"refresh after revoke", "refresh", revokeAll},
		{"token needing a refresh after revoke", "token", func(c *cli) {
			revokeAll(c)
			c.later(16 * time.Minute) // the access token expired: token must refresh
		}},
		{"refresh token expired", "token", func(c *cli) { c.later(8 * 24 * time.Hour) }},
		{"refresh token expired, refresh", "refresh", func(c *cli) { c.later(8 * 24 * time.Hour) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newCLI(t)
			c.login(john, johnPW)
			tc.breakIt(c)
			r := c.run("", tc.cmd)
			wantExit(t, r, 4)
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
			if want := `session expired: run "dyorctl login -u john@API"`; strings.TrimSpace(r.stderr) != want {
				t.Errorf("stderr %q, want %q", r.stderr, want)
			}
			if len(c.accounts()) != 0 {
				t.Error("the stale entry was kept")
			}
		})
	}
}

func revokeAll(c *cli) {
	for _, s := range c.srv.Sessions() {
		if err := c.srv.RevokeSession(s.ID); err != nil {
			c.t.Fatal(err)
		}
	}
}

// later moves both clocks, the mock's and the CLI's, forward by d.
func (c *cli) later(d time.Duration) {
	c.t.Helper()
	if err := c.srv.Advance(d); err != nil {
		c.t.Fatal(err)
	}
	c.now = c.srv.Now
}

func TestTokenRefreshesWithinMargin(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.login(john, johnPW)
	before, _ := c.stored(john)
	c.later(15*time.Minute - 30*time.Second) // within the 60 s margin

	r := c.run("", "token")
	wantExit(t, r, 0)
	after, _ := c.stored(john)
	if got := strings.TrimSpace(r.stdout); got == before.Tokens.Access || got != after.Tokens.Access {
		t.Errorf("token printed %q, want the new stored token", got)
	}
	r = c.run("", "token")
	wantExit(t, r, 0)
	if n := countRequests(c.srv, "refresh", 200); n != 1 {
		t.Errorf("%d refreshes, want 1", n)
	}
}

func TestTokenNetworkFailureKeepsTokens(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.login(john, johnPW)
	before, _ := c.stored(john)
	c.later(16 * time.Minute)
	if err := c.srv.AddFault(mock.Fault{Route: "refresh", Status: 502, Times: 1}); err != nil {
		t.Fatal(err)
	}
	r := c.run("", "token")
	wantExit(t, r, 6)
	if r.stdout != "" || !strings.Contains(r.stderr, "server error: 502 Bad Gateway") {
		t.Errorf("output %q / %q", r.stdout, r.stderr)
	}
	if after, ok := c.stored(john); !ok || after.Tokens.Refresh != before.Tokens.Refresh {
		t.Error("the tokens were not kept after a 502")
	}
	if err := c.srv.AddFault(mock.Fault{Route: "refresh", Drop: true, Times: 1}); err != nil {
		t.Fatal(err)
	}
	r = c.run("", "refresh")
	wantExit(t, r, 6)
	if !strings.Contains(r.stderr, "cannot reach "+c.srv.URL) {
		t.Errorf("stderr %q", r.stderr)
	}
	if _, ok := c.stored(john); !ok {
		t.Error("the tokens were not kept after a dropped connection")
	}
}

func TestDYORToken(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	m, err := c.srv.MintSession(john, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	c.env["DYOR_TOKEN"] = m.Access

	r := c.run("", "token")
	wantExit(t, r, 0)
	if strings.TrimSpace(r.stdout) != m.Access {
		t.Errorf("token printed %q, want DYOR_TOKEN", r.stdout)
	}
	r = c.run("", "status", "-o", "json")
	wantExit(t, r, 0)
	if obj := decodeJSON(t, r.stdout); obj["source"] != "DYOR_TOKEN" {
		t.Errorf("status source %v", obj["source"])
	}
	r = c.run("", "status")
	wantExit(t, r, 0)
	if !strings.Contains(r.stdout, "DYOR_TOKEN") || strings.Contains(r.stdout, m.Access) {
		t.Errorf("status text %q", r.stdout)
	}

	c.later(16 * time.Minute)
	r = c.run("", "token")
	wantExit(t, r, 4)
	if r.stdout != "" || !strings.Contains(r.stderr, "DYOR_TOKEN expired") {
		t.Errorf("expired DYOR_TOKEN: %q / %q", r.stdout, r.stderr)
	}
	wantExit(t, c.run("", "status"), 4)

	c.env["DYOR_TOKEN"] = "not-a-jwt"
	r = c.run("", "token")
	wantExit(t, r, 2)
	if strings.Contains(r.stderr, "not-a-jwt") {
		t.Errorf("stderr repeats the token: %q", r.stderr)
	}
}

func TestStatusText(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	other := mock.Start(t, mock.WithBcryptCost(4))
	c.login(john, johnPW)
	wantExit(t, c.runRaw(context.Background(), johnPW+"\n", "--server", other.URL, "--config-dir", c.dir,
		"login", "-u", john, "--password-stdin"), 0)

	r := c.run("", "status")
	wantExit(t, r, 0)
	for _, want := range []string{
		regexp.QuoteMeta(c.srv.URL + " (selected)"), regexp.QuoteMeta(other.URL), `\* john@API \(active\), session \S+`,
		`access token:  expires in (14m \d+s|15m 0s)`, `refresh token: expires in (6d 23h 59m|7d 0h 0m)`,
		regexp.QuoteMeta("Credentials file: " + filepath.Join(c.dir, "credentials.json")),
	} {
		if !regexp.MustCompile(want).MatchString(r.stdout) {
			t.Errorf("status does not match %q:\n%s", want, r.stdout)
		}
	}
	if r.stderr != "" {
		t.Errorf("status stderr %q", r.stderr)
	}

	// The selected server has no session: exit 4, the others still listed.
	third := mock.Start(t)
	r = c.runRaw(context.Background(), "", "--server", third.URL, "--config-dir", c.dir, "status", "-o", "json")
	wantExit(t, r, 4)
	if obj := decodeJSON(t, r.stdout); len(obj["accounts"].([]any)) != 2 || obj["server"] != third.URL {
		t.Errorf("status JSON %v", obj)
	}

	// An expired session is shown as such and exits 4.
	c.later(8 * 24 * time.Hour)
	r = c.run("", "status")
	wantExit(t, r, 4)
	if !strings.Contains(r.stdout, "expired") || !strings.Contains(r.stderr, `session expired: run "dyorctl login -u john@API"`) {
		t.Errorf("status of an expired session: %q / %q", r.stdout, r.stderr)
	}
}
