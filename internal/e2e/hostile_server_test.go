package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// hostileJWT is an unsigned token whose sid and sub claims are sid.
func hostileJWT(sid, typ string, ttl time.Duration) string {
	payload, _ := json.Marshal(map[string]any{"sid": sid, "sub": sid, "typ": typ, "iat": time.Now().Unix(), "exp": time.Now().Add(ttl).Unix()})
	return "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." + base64.RawURLEncoding.EncodeToString(payload) + ".c2ln"
}

// forging is text a terminal would act on: a window title, a screen
// clear, a cursor move, a C1 control sequence, a right-to-left override.
const forging = "\x1b]0;PWNED\a\x1b[2J\x1b[H\u009b31m\u202e"

// TestHostileServer runs the real dyorctl against servers that answer
// what a hostile or broken server might: whatever they send, dyorctl ends
// in time with its exit code, and nothing it prints on stdout, stderr or
// in -o json carries an escape sequence, the password it sent, the bearer
// token, or anything shaped like a JWT.
func TestHostileServer(t *testing.T) {
	needBinaries(t)
	t.Parallel()
	const password = "Hostile-Pass-42"
	envelope := func(w http.ResponseWriter, status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	failure := func(status, code int, msg string) map[string]any {
		return map[string]any{"ok": false, "error": map[string]any{"code": code, "message": msg}}
	}
	echo := func(r *http.Request) string {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
		var creds struct{ Password string }
		_ = json.Unmarshal(body, &creds)
		return "you sent " + r.Header.Get("Authorization") + " and " + creds.Password
	}
	badSID := forging + "sid " + hostileJWT("inner", "access", time.Hour)
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		args    []string
		stored  bool // a pair stored for the server first
		exit    int
	}{
		{name: "message with escape sequences", args: []string{"login"}, exit: 1,
			handler: func(w http.ResponseWriter, r *http.Request) {
				envelope(w, 400, failure(400, 400002, "bad"+forging+"input"))
			}},
		{name: "message echoing the password", args: []string{"login"}, exit: 1,
			handler: func(w http.ResponseWriter, r *http.Request) { envelope(w, 400, failure(400, 400002, echo(r))) }},
		{name: "message echoing the bearer token", args: []string{"refresh"}, stored: true, exit: 1,
			handler: func(w http.ResponseWriter, r *http.Request) { envelope(w, 400, failure(400, 400002, echo(r))) }},
		{name: "message echoing the bearer token, logout", args: []string{"logout"}, stored: true, exit: 1,
			handler: func(w http.ResponseWriter, r *http.Request) { envelope(w, 400, failure(400, 400002, echo(r))) }},
		{name: "wrong password with escapes", args: []string{"login"}, exit: 5,
			handler: func(w http.ResponseWriter, r *http.Request) { envelope(w, 401, failure(401, 401005, forging+echo(r))) }},
		{name: "tokens with hostile claims", args: []string{"login"}, exit: 0,
			handler: func(w http.ResponseWriter, r *http.Request) {
				envelope(w, 200, map[string]any{"ok": true, "result": map[string]any{"token": map[string]any{
					"access": hostileJWT(badSID, "access", time.Hour), "refresh": hostileJWT(badSID, "refresh", 24*time.Hour)}}})
			}},
		{name: "refresh answering hostile claims", args: []string{"refresh"}, stored: true, exit: 0,
			handler: func(w http.ResponseWriter, r *http.Request) {
				envelope(w, 200, map[string]any{"ok": true, "result": map[string]any{"token": map[string]any{
					"access": hostileJWT(badSID, "access", time.Hour), "refresh": hostileJWT(badSID, "refresh", 24*time.Hour)}}})
			}},
		{name: "proxy page quoting the token", args: []string{"refresh"}, stored: true, exit: 6,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(502)
				_, _ = io.WriteString(w, "<html>"+forging+r.Header.Get("Authorization")+"</html>")
			}},
		{name: "50 MB error body", args: []string{"login"}, exit: 6,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(503)
				chunk := bytes.Repeat([]byte("\x1b[2J"), 1<<18)
				for range 50 {
					if _, err := w.Write(chunk); err != nil {
						return
					}
				}
			}},
		{name: "body that never ends", args: []string{"--timeout", "1s", "login"}, exit: 6,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(200)
				_, _ = io.WriteString(w, `{"ok":true,"result":{"token":{"access":"`)
				w.(http.Flusher).Flush()
				<-r.Context().Done()
			}},
		{name: "redirect elsewhere", args: []string{"login"}, exit: 1,
			handler: func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "http://127.0.0.1:1/steal", http.StatusTemporaryRedirect)
			}},
		{name: "NULs and invalid UTF-8", args: []string{"login"}, exit: 1,
			handler: func(w http.ResponseWriter, r *http.Request) {
				envelope(w, 400, failure(400, 400002, "a\x00b\xff\xfe\rforged line\n"+password))
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			dir := filepath.Join(t.TempDir(), "dyorctl")
			var bearer string
			for _, o := range []string{"text", "json"} {
				if tc.stored { // afresh for each run: logout removes it
					bearer = hostileJWT("stored-sid", "access", time.Hour)
					file := map[string]any{"version": 1, "servers": map[string]any{srv.URL: map[string]any{"active": "alice",
						"accounts": map[string]any{"alice": map[string]any{"access": bearer, "refresh": hostileJWT("stored-sid", "refresh", 24*time.Hour)}}}}}
					data, _ := json.Marshal(file)
					if err := os.MkdirAll(dir, 0o700); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(filepath.Join(dir, "credentials.json"), data, 0o600); err != nil {
						t.Fatal(err)
					}
				}
				args := append([]string{"--server", srv.URL, "--config-dir", dir, "-o", o}, tc.args...)
				if strings.HasSuffix(args[len(args)-1], "login") {
					args = append(args, "-u", "alice", "--password-stdin")
				}
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				cmd := exec.CommandContext(ctx, dyorctlBin, args...)
				cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
				cmd.Stdin = strings.NewReader(password + "\n")
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				err := cmd.Run()
				if ctx.Err() != nil {
					t.Fatalf("-o %s: dyorctl hung (killed after 20 s)", o)
				}
				code := 0
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					code = ee.ExitCode()
				} else if err != nil {
					t.Fatal(err)
				}
				if code != tc.exit {
					t.Errorf("-o %s: exit %d, want %d; stderr %q", o, code, tc.exit, stderr.String())
				}
				out := stdout.String() + stderr.String()
				for _, bad := range []string{"\x1b", "\a", "\x00", "\r", "\u009b", "\u202e", "PWNED", "eyJ", password} {
					if strings.Contains(out, bad) {
						t.Errorf("-o %s: output holds %q: stdout %q, stderr %q", o, bad, stdout.String(), stderr.String())
					}
				}
				if bearer != "" && strings.Contains(out, bearer[40:56]) {
					t.Errorf("-o %s: output holds a piece of the bearer token", o)
				}
				if lines := strings.Count(strings.TrimRight(stderr.String(), "\n"), "\n"); lines > 0 {
					t.Errorf("-o %s: stderr is %d lines, want one: %q", o, lines+1, stderr.String())
				}
				if code == 0 && tc.stored || tc.name == "tokens with hostile claims" {
					// What was stored is shown by status, cleaned too.
					st := exec.Command(dyorctlBin, "--server", srv.URL, "--config-dir", dir, "-o", o, "status")
					st.Env = cmd.Env
					shown, _ := st.CombinedOutput()
					for _, bad := range []string{"\x1b", "\a", "\u009b", "\u202e", "PWNED", "eyJ"} {
						if bytes.Contains(shown, []byte(bad)) {
							t.Errorf("status -o %s shows %q: %q", o, bad, shown)
						}
					}
				}
			}
		})
	}
}
