package dyorctlcmd

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// unsafeText reports what in s a terminal would act on, or a secret.
func unsafeText(s string, secrets ...string) string {
	for _, bad := range []string{"\x1b", "\a", "\u009b", "\u202e", "PWNED", "eyJ"} {
		if strings.Contains(s, bad) {
			return bad
		}
	}
	for _, sec := range secrets {
		if strings.Contains(s, sec) {
			return sec
		}
	}
	return ""
}

// TestServerClaimsAreCleaned: a session id claim holding escape sequences
// (which would retitle the window and clear the screen) or a JWT is shown
// cleaned by status, text and JSON.
func TestServerClaimsAreCleaned(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	jwt := func(claims map[string]any) string {
		payload, _ := json.Marshal(claims)
		return "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." + base64.RawURLEncoding.EncodeToString(payload) + ".c2ln"
	}
	sid := "\x1b]0;PWNED\a\x1b[2J\x1b[Hsid-\u202e1 eyJhbGciOiJIUzI1NiJ9.eyJ4IjoxfQ.c2ln"
	now := time.Now()
	file := map[string]any{"version": 1, "servers": map[string]any{c.srv.URL: map[string]any{
		"active": john,
		"accounts": map[string]any{john: map[string]any{
			"access":  jwt(map[string]any{"sid": sid, "sub": sid, "exp": now.Add(time.Hour).Unix()}),
			"refresh": jwt(map[string]any{"sid": sid, "sub": sid, "exp": now.Add(24 * time.Hour).Unix()}),
		}},
	}}}
	data, _ := json.Marshal(file)
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(c.dir, "credentials.json"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"status"}, {"status", "-o", "json"}} {
		r := c.run("", args...)
		wantExit(t, r, 0)
		if bad := unsafeText(r.stdout + r.stderr); bad != "" {
			t.Errorf("%v shows %q: %q", args, bad, r.stdout)
		}
		if !strings.Contains(r.stdout, "sid-1 [token]") {
			t.Errorf("%v: the cleaned session id is missing: %q", args, r.stdout)
		}
	}
}

// TestServerMessagesAreCleaned: error messages of a hostile server that
// echo the password just sent or the bearer token, or carry escape
// sequences, reach stderr and -o json cleaned.
func TestServerMessagesAreCleaned(t *testing.T) {
	t.Parallel()
	const password = "Secret-Pass-42"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var creds struct{ Password string }
		_ = json.Unmarshal(body, &creds)
		msg := "bad request, you sent " + r.Header.Get("Authorization") + " and password " + creds.Password + "\x1b]0;PWNED\a\x1b[2J"
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		out, _ := json.Marshal(map[string]any{"ok": false, "error": map[string]any{"code": 400002, "message": msg}})
		_, _ = w.Write(out)
	}))
	defer srv.Close()
	c := newCLI(t)
	tok, _ := c.saveMinted(john, 0, 0) // a pair the hostile server's URL does not have
	for _, o := range []string{"text", "json"} {
		r := c.runRaw(t.Context(), password+"\n", "--server", srv.URL, "--config-dir", c.dir, "-o", o, "login", "-u", john, "--password-stdin")
		wantExit(t, r, 1)
		if bad := unsafeText(r.stdout+r.stderr, password); bad != "" {
			t.Errorf("login -o %s shows %q: stderr %q, stdout %q", o, bad, r.stderr, r.stdout)
		}
		if !strings.Contains(r.stderr, "[redacted]") {
			t.Errorf("login -o %s: stderr %q lacks the marker", o, r.stderr)
		}
	}
	// The mock's pair, stored for the hostile server, is presented there.
	data, _ := os.ReadFile(c.store().Path())
	data = []byte(strings.ReplaceAll(string(data), c.srv.URL, srv.URL))
	if err := os.WriteFile(c.store().Path(), data, 0o600); err != nil {
		t.Fatal(err)
	}
	r := c.runRaw(t.Context(), "", "--server", srv.URL, "--config-dir", c.dir, "-o", "json", "refresh")
	wantExit(t, r, 1)
	if bad := unsafeText(r.stdout+r.stderr, tok.Refresh[40:60]); bad != "" {
		t.Errorf("refresh shows %q: stderr %q, stdout %q", bad, r.stderr, r.stdout)
	}
}

// TestUsageErrorsQuoteNoValue: a server URL carrying user information is
// refused without being shown, and no usage error quotes a flag's value
// (a password pasted after the wrong flag).
func TestUsageErrorsQuoteNoValue(t *testing.T) {
	t.Parallel()
	const secret = "Secret-Pass-42"
	c := newCLI(t)
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"server with user and password", nil, []string{"--server", "http://user:" + secret + "@127.0.0.1:1", "status"}, "carries credentials"},
		{"server with a user only", nil, []string{"--server", "http://" + secret + "@127.0.0.1:1", "status"}, "carries credentials"},
		{"DYOR_SERVER with a password", map[string]string{"DYOR_SERVER": "https://u:" + secret + "@example.com"}, []string{"status"}, "carries credentials"},
		{"not a server URL", nil, []string{"--server", "ftp://" + secret, "status"}, "is not http or https"},
		{"output format", nil, []string{"-o", secret, "status"}, "-o takes text or json"},
		{"timeout", nil, []string{"--timeout", "-42h", "status"}, "--timeout must be a positive duration"},
		{"username too long", nil, []string{"login", "-u", strings.Repeat(secret, 5), "--password-stdin"}, "username"},
		{"unknown shorthand", nil, []string{"login", "-u", john, "-p" + secret}, "unknown shorthand flag"},
		{"bad duration", nil, []string{"--timeout", secret, "status"}, "invalid value for the --timeout flag"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cc := *c
			cc.t = t
			cc.env = tc.env
			for _, o := range []string{"text", "json"} {
				args := append([]string{"--config-dir", c.dir}, tc.args...)
				if o == "json" {
					args = append([]string{"-o", "json"}, args...)
					if tc.name == "output format" {
						continue // two -o: the later one counts
					}
				}
				r := cc.runRaw(t.Context(), "", args...)
				wantExit(t, r, 2)
				if strings.Contains(r.stdout+r.stderr, secret) || strings.Contains(r.stdout+r.stderr, "//user") {
					t.Errorf("-o %s: the value is shown: stderr %q, stdout %q", o, r.stderr, r.stdout)
				}
				if !strings.Contains(r.stderr, tc.want) {
					t.Errorf("-o %s: stderr %q lacks %q", o, r.stderr, tc.want)
				}
			}
		})
	}
}
