package dyorctlcmd

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dyor-exchange/dyorctl/internal/contracttest"
	"github.com/dyor-exchange/dyorctl/mock"
)

// Every failure a user can cause: one sentence on stderr, its exit code,
// nothing on stdout in text mode, and with -o json one error object.
func TestFailures(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		opts    []mock.Option
		prepare func(t *testing.T, c *cli) // before the run
		stdin   string
		args    []string
		code    int
		apiCode int // 0: null
		stderr  string
	}{
		{
			name: "wrong password", stdin: "wrongPassword\n",
			args: []string{"login", "-u", john, "--password-stdin"},
			code: 5, apiCode: 401005, stderr: "wrong password for john@API",
		},
		{
			name: "unknown account", stdin: "somePassword\n",
			args: []string{"login", "-u", "nobody", "--password-stdin"},
			code: 5, apiCode: 404001, stderr: "no account named nobody",
		},
		{
			name: "account locked", opts: []mock.Option{mock.WithLockout(1, time.Hour)},
			prepare: func(t *testing.T, c *cli) {
				wantExit(t, c.run("wrongPassword\n", "login", "-u", john, "--password-stdin"), 5)
			},
			stdin: johnPW + "\n", args: []string{"login", "-u", john, "--password-stdin"},
			code: 5, apiCode: 403002, stderr: "account john@API is locked: too many wrong passwords, try again later",
		},
		{
			name: "username taken", stdin: "somePassword\n",
			args: []string{"register", "-u", john, "--password-stdin"},
			code: 5, apiCode: 409001, stderr: "username john@API is already taken",
		},
		{
			name: "server 5xx",
			prepare: func(t *testing.T, c *cli) {
				if err := c.srv.AddFault(mock.Fault{Route: "login", Status: 503}); err != nil {
					t.Fatal(err)
				}
			},
			stdin: johnPW + "\n", args: []string{"login", "-u", john, "--password-stdin"},
			code: 6, apiCode: 503000, stderr: "server error: 503 Service Unavailable",
		},
		{
			name: "timeout",
			prepare: func(t *testing.T, c *cli) {
				if err := c.srv.AddFault(mock.Fault{Route: "login", Delay: 5 * time.Second}); err != nil {
					t.Fatal(err)
				}
			},
			stdin: johnPW + "\n", args: []string{"--timeout", "200ms", "login", "-u", john, "--password-stdin"},
			code: 6, stderr: "timed out after 200ms",
		},
		{
			name: "connection dropped",
			prepare: func(t *testing.T, c *cli) {
				if err := c.srv.AddFault(mock.Fault{Route: "register", Drop: true}); err != nil {
					t.Fatal(err)
				}
			},
			stdin: "somePassword\n", args: []string{"register", "-u", "alice", "--password-stdin"},
			code: 6, stderr: "cannot reach",
		},
		{
			name: "corrupt credentials file",
			prepare: func(t *testing.T, c *cli) {
				writeFile(t, filepath.Join(c.dir, "credentials.json"), "{not json")
			},
			args: []string{"status"}, code: 1, stderr: filepath.Join("credentials.json"),
		},
		{
			name: "credentials file of an unknown version",
			prepare: func(t *testing.T, c *cli) {
				writeFile(t, filepath.Join(c.dir, "credentials.json"), `{"version":2,"servers":{}}`)
			},
			stdin: johnPW + "\n", args: []string{"login", "-u", john, "--password-stdin"},
			code: 1, stderr: "credentials.json",
		},
		{
			name: "no password source", args: []string{"login", "-u", john},
			code: 2, stderr: "--password-stdin",
		},
		{
			name: "empty password on stdin", args: []string{"login", "-u", john, "--password-stdin"},
			code: 2, stderr: "empty password",
		},
		{
			name: "password too short", stdin: "short\n", args: []string{"register", "-u", "alice", "--password-stdin"},
			code: 2, stderr: "the password must be 8 to 72 bytes long",
		},
		{
			name: "password too long", stdin: strings.Repeat("x", 73) + "\n",
			args: []string{"register", "-u", "alice", "--password-stdin"},
			code: 2, stderr: "the password must be 8 to 72 bytes long",
		},
		{
			name: "username with a space", stdin: "somePassword\n", args: []string{"register", "-u", "a b", "--password-stdin"},
			code: 2, stderr: "must not contain whitespace",
		},
		{
			name: "username too short", stdin: "somePassword\n", args: []string{"login", "-u", "ab", "--password-stdin"},
			code: 2, stderr: "3 to 64 characters",
		},
		{name: "missing username", args: []string{"login"}, code: 2, stderr: "-u USERNAME"},
		{name: "unknown command", args: []string{"lgoin"}, code: 2, stderr: `unknown command "lgoin" for "dyorctl"; did you mean "login"?`},
		{name: "unknown flag", args: []string{"status", "--bogus"}, code: 2, stderr: "unknown flag: --bogus"},
		{name: "bad flag value", args: []string{"--timeout", "soon", "status"}, code: 2, stderr: `invalid value for the --timeout flag`},
		{name: "flag without its value", args: []string{"switch", "-u"}, code: 2, stderr: "flag needs an argument"},
		{name: "bad output format", args: []string{"-o", "yaml", "status"}, code: 2, stderr: "-o takes text or json"},
		{name: "zero timeout", args: []string{"--timeout", "0s", "status"}, code: 2, stderr: "--timeout"},
		{name: "extra argument", args: []string{"status", "now"}, code: 2, stderr: "takes no arguments"},
		{name: "unknown shell", args: []string{"completion", "tcsh"}, code: 2, stderr: `unknown command "tcsh"`},
		{name: "token as JSON", args: []string{"token", "-o", "json"}, code: 2, stderr: "no JSON output"},
		{name: "bad server URL", args: []string{"--server", "ftp://x", "status"}, code: 2, stderr: `--server: "URL" is not a server URL`},
		{name: "tui without a terminal", args: []string{"tui"}, code: 2, stderr: "dyorctl tui needs a terminal; use the other commands in scripts"},
	} {
		for _, json := range []bool{false, true} {
			name := tc.name
			if json {
				if tc.name == "bad output format" {
					continue // -o yaml is not json
				}
				name += "/json"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				c := newCLI(t, tc.opts...)
				if tc.prepare != nil {
					tc.prepare(t, c)
				}
				args := tc.args
				if json {
					args = append([]string{"-o", "json"}, args...)
				}
				r := c.run(tc.stdin, args...)
				wantExit(t, r, tc.code)
				if !strings.Contains(r.stderr, tc.stderr) {
					t.Errorf("stderr %q, want it to contain %q", r.stderr, tc.stderr)
				}
				if !json && !slices.Contains(tc.args, "json") {
					if r.stdout != "" {
						t.Errorf("stdout %q, want nothing", r.stdout)
					}
					return
				}
				obj := decodeJSON(t, r.stdout)
				body, _ := obj["error"].(map[string]any)
				if keys(obj) != "error" || body == nil {
					t.Fatalf("JSON %v, want an error object", obj)
				}
				if body["exit_code"] != float64(tc.code) || body["message"] != strings.TrimSpace(r.stderr) {
					t.Errorf("error object %v, stderr %q", body, r.stderr)
				}
				if tc.apiCode == 0 && body["api_code"] != nil || tc.apiCode != 0 && body["api_code"] != float64(tc.apiCode) {
					t.Errorf("api_code %v, want %d (0 = null)", body["api_code"], tc.apiCode)
				}
			})
		}
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// A corrupt file is reported and left as it was, even by login.
func TestCorruptFileUntouched(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	path := filepath.Join(c.dir, "credentials.json")
	writeFile(t, path, "garbage")
	for _, args := range [][]string{{"login", "-u", john, "--password-stdin"}, {"token"}, {"refresh"}, {"logout"}, {"switch", "-u", john}} {
		r := c.run(johnPW+"\n", args...)
		wantExit(t, r, 1)
		if !strings.Contains(r.stderr, path) {
			t.Errorf("%v: stderr %q does not name the file", args, r.stderr)
		}
	}
	if data, _ := os.ReadFile(path); string(data) != "garbage" {
		t.Errorf("the corrupt file was changed to %q", data)
	}
	if n := countRequests(c.srv, "login", 200); n != 0 {
		t.Errorf("login reached the server (%d sessions) with a corrupt store", n)
	}
}

func TestServerDown(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now
	c := newCLI(t)
	r := c.runRaw(context.Background(), johnPW+"\n", "--server", url, "--config-dir", c.dir, "login", "-u", john, "--password-stdin")
	wantExit(t, r, 6)
	if want := "cannot reach " + url + ": connection refused"; strings.TrimSpace(r.stderr) != want {
		t.Errorf("stderr %q, want %q", r.stderr, want)
	}
}

func TestCancelled(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	if err := c.srv.AddFault(mock.Fault{Route: "login", Delay: 10 * time.Second}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	r := c.runRaw(ctx, johnPW+"\n", "--server", c.srv.URL, "--config-dir", c.dir, "login", "-u", john, "--password-stdin")
	wantExit(t, r, 2)
	if strings.TrimSpace(r.stderr) != "cancelled" {
		t.Errorf("stderr %q", r.stderr)
	}
}

// dyorctl gives every row of the shared input-rules table the server's
// verdict, and refuses a bad value before sending anything (exit 2).
func TestInputRulesTable(t *testing.T) {
	t.Parallel()
	c := newCLI(t, mock.WithNoSeed()) // every valid row is a new account
	usernames, passwords := contracttest.InputRules()
	check := func(what string, valid bool, username, password string) {
		t.Helper()
		before := len(c.srv.Requests())
		r := c.run(password+"\n", "register", "-u", username, "--password-stdin")
		sent := len(c.srv.Requests()) - before
		switch {
		case valid && (r.code != 0 || sent != 1):
			t.Errorf("register with %s: exit %d, %d requests, stderr %q; want it registered", what, r.code, sent, r.stderr)
		case !valid && (r.code != exitUsage || sent != 0):
			t.Errorf("register with %s: exit %d, %d requests; want exit 2 and nothing sent", what, r.code, sent)
		case !valid:
			checkSentence(t, r.stderr)
		}
	}
	for _, tc := range usernames {
		check(fmt.Sprintf("username %+q", tc.Value), tc.Valid, tc.Value, "honeyBunnies")
	}
	for i, tc := range passwords {
		check(fmt.Sprintf("a password of %d bytes", len(tc.Value)), tc.Valid, fmt.Sprintf("pw-user-%d", i), tc.Value)
	}
}
