package dyorctlcmd

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/dyor-exchange/dyorctl/client"
)

// backend is the DYOR backend as dyorctl api sees it: routes beyond the
// account API that take the access token, in front of a mock that issues
// and refreshes the tokens.
type backend struct {
	*cli
	url string

	mu   sync.Mutex
	hits []backendHit // requests to /api/v1/*, oldest first
}

type backendHit struct {
	method, path, body, header string
}

func newBackend(t *testing.T) *backend {
	t.Helper()
	b := &backend{cli: newCLI(t)}
	front := httptest.NewServer(http.HandlerFunc(b.serve))
	t.Cleanup(front.Close)
	b.url = front.URL
	return b
}

func writeEnvelope(w http.ResponseWriter, status int, v string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, v)
}

func (b *backend) serve(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, "/api/v1/") || strings.HasPrefix(r.URL.Path, "/api/v1/account/") {
		b.srv.ServeHTTP(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	b.mu.Lock()
	b.hits = append(b.hits, backendHit{r.Method, r.URL.Path, string(body), r.Header.Get("X-Test")})
	b.mu.Unlock()
	switch r.URL.Path {
	case "/api/v1/always-expired":
		writeEnvelope(w, 401, `{"ok":false,"error":{"code":401003,"message":"token expired"}}`)
		return
	case "/api/v1/drop":
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			_ = conn.Close()
		}
		return
	case "/api/v1/busy":
		writeEnvelope(w, 503, `{"ok":false,"error":{"code":503000,"message":"try later"}}`)
		return
	case "/api/v1/missing":
		writeEnvelope(w, 404, `{"ok":false,"error":{"code":404000,"message":"no such route \u001b[31mred\u202e"}}`)
		return
	}
	// /api/v1/echo and the rest: the access token is checked as the
	// account API checks it, on the mock's clock.
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	claims, err := client.ParseTokens(token, token)
	switch {
	case err != nil:
		writeEnvelope(w, 401, `{"ok":false,"error":{"code":401002,"message":"bad token"}}`)
		return
	case !claims.AccessExpiresAt.After(b.srv.Now()):
		writeEnvelope(w, 401, `{"ok":false,"error":{"code":401003,"message":"token expired"}}`)
		return
	case !b.live(claims.SessionID):
		writeEnvelope(w, 401, `{"ok":false,"error":{"code":401004,"message":"session not found"}}`)
		return
	}
	out, _ := json.Marshal(map[string]any{"ok": true, "result": map[string]string{
		"method": r.Method, "body": string(body), "x_test": r.Header.Get("X-Test"), "content_type": r.Header.Get("Content-Type")}})
	writeEnvelope(w, 200, string(out))
}

func (b *backend) live(sid string) bool {
	for _, s := range b.srv.Sessions() {
		if s.ID == sid {
			return true
		}
	}
	return false
}

func (b *backend) hitList() []backendHit {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]backendHit(nil), b.hits...)
}

// api runs dyorctl against the backend.
func (b *backend) api(stdin string, args ...string) result {
	b.t.Helper()
	return b.runRaw(context.Background(), stdin, append([]string{"--server", b.url, "--config-dir", b.dir}, args...)...)
}

// logIn stores a session minted on the mock as the backend's active one.
func (b *backend) logIn(accessTTL time.Duration) client.Tokens {
	b.t.Helper()
	m, err := b.srv.MintSession(john, accessTTL, 0)
	if err != nil {
		b.t.Fatal(err)
	}
	tok, err := client.ParseTokens(m.Access, m.Refresh)
	if err != nil {
		b.t.Fatal(err)
	}
	tok.Username = john
	if err := b.store().ForServer(b.url).Save(context.Background(), tok); err != nil {
		b.t.Fatal(err)
	}
	return tok
}

func noTokenIn(t *testing.T, r result, toks ...client.Tokens) {
	t.Helper()
	for _, tok := range toks {
		for _, s := range []string{tok.Access, tok.Refresh} {
			if s != "" && (strings.Contains(r.stdout, s) || strings.Contains(r.stderr, s)) {
				t.Errorf("a token was printed:\nstdout %q\nstderr %q", r.stdout, r.stderr)
			}
		}
	}
}

func TestAPIGet(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	tok := b.logIn(0)
	r := b.api("", "api", "/api/v1/echo", "-H", "X-Test: yes", "-v")
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	want := `{"ok":true,"result":{"body":"","content_type":"","method":"GET","x_test":"yes"}}`
	if r.stdout != want {
		t.Errorf("stdout %q, want the body as received %q", r.stdout, want)
	}
	if !strings.Contains(r.stderr, "> GET "+b.url+"/api/v1/echo\n> Authorization: Bearer [redacted]\n") {
		t.Errorf("-v trace %q does not show the redacted request", r.stderr)
	}
	noTokenIn(t, r, tok)
}

func TestAPIBodiesAndOutput(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	b.logIn(0)
	file := filepath.Join(t.TempDir(), "body.json")
	if err := os.WriteFile(file, []byte(`{"from":"file"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, stdin string
		args        []string
		want        map[string]string
	}{
		{"-d makes a POST", "", []string{"-d", `{"a":1}`}, map[string]string{"method": "POST", "body": `{"a":1}`, "content_type": "application/json"}},
		{"-X with -d", "", []string{"-X", "put", "-d", `{}`}, map[string]string{"method": "PUT", "body": `{}`}},
		{"--input FILE", "", []string{"--input", file}, map[string]string{"method": "POST", "body": `{"from":"file"}`}},
		{"--input -", `{"from":"stdin"}`, []string{"--input", "-"}, map[string]string{"method": "POST", "body": `{"from":"stdin"}`}},
		{"-H Content-Type wins", "", []string{"-d", "a=1", "-H", "Content-Type: text/plain"}, map[string]string{"content_type": "text/plain"}},
		{"-X DELETE without body", "", []string{"-X", "DELETE"}, map[string]string{"method": "DELETE", "body": ""}},
	}
	for _, tt := range tests {
		r := b.api(tt.stdin, append([]string{"api", "/api/v1/echo"}, tt.args...)...)
		if r.code != 0 {
			t.Errorf("%s: exit %d, stderr %q", tt.name, r.code, r.stderr)
			continue
		}
		var got struct{ Result map[string]string }
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
			t.Errorf("%s: stdout %q: %v", tt.name, r.stdout, err)
			continue
		}
		for k, v := range tt.want {
			if got.Result[k] != v {
				t.Errorf("%s: the server saw %s %q, want %q", tt.name, k, got.Result[k], v)
			}
		}
	}

	r := b.api("", "api", "-i", "api/v1/echo")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "HTTP/1.1 200 OK\n") || !strings.Contains(r.stdout, "\nContent-Type: application/json\n") ||
		!strings.HasSuffix(r.stdout, "\n\n"+`{"ok":true,"result":{"body":"","content_type":"","method":"GET","x_test":""}}`) {
		t.Errorf("-i: exit %d, stdout %q", r.code, r.stdout)
	}

	b.setup = func(f *Factory) { f.IO.StdoutTTY = true }
	r = b.api("", "api", "/api/v1/echo")
	if r.code != 0 || !strings.Contains(r.stdout, "{\n  \"ok\": true,\n  \"result\": {\n") || !strings.HasSuffix(r.stdout, "}\n") {
		t.Errorf("on a terminal: exit %d, stdout %q, want indented JSON", r.code, r.stdout)
	}
	r = b.api("", "api", "/api/v1/missing")
	if strings.ContainsAny(r.stdout, "\x1b\u202e") || strings.ContainsAny(r.stderr, "\x1b\u202e") {
		t.Errorf("on a terminal, control characters from the server were printed: %q / %q", r.stdout, r.stderr)
	}
}

// An access token the server finds expired (the clocks disagree) is
// refreshed once and the request sent once more, body and all.
func TestAPIReplaysOnceAfterExpiredToken(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	tok := b.logIn(time.Minute)
	if err := b.srv.Advance(2 * time.Minute); err != nil { // expired on the server, fresh by our clock
		t.Fatal(err)
	}
	r := b.api("", "api", "/api/v1/echo", "-d", `{"order":1}`)
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	hits := b.hitList()
	if len(hits) != 2 || hits[0] != hits[1] || hits[1].method != "POST" || hits[1].body != `{"order":1}` {
		t.Errorf("the server saw %+v, want the same POST twice", hits)
	}
	if n := countRequests(b.srv, "refresh", 200); n != 1 {
		t.Errorf("%d refreshes, want 1", n)
	}
	after, err := b.store().ForServer(b.url).Load(context.Background())
	if err != nil || after.Refresh == tok.Refresh {
		t.Errorf("the rotated pair was not stored (%v)", err)
	}
	noTokenIn(t, r, tok, after)
}

func TestAPINeverReplaysTwice(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	b.logIn(0)
	r := b.api("", "api", "/api/v1/always-expired", "-d", `{}`)
	wantExit(t, r, 4)
	if !strings.Contains(r.stderr, "still refused the access token after a refresh") {
		t.Errorf("stderr %q", r.stderr)
	}
	if n := len(b.hitList()); n != 2 {
		t.Errorf("the request was sent %d times, want 2", n)
	}
	if n := countRequests(b.srv, "refresh", 200); n != 1 {
		t.Errorf("%d refreshes, want 1", n)
	}
}

// After any failure but an expired token, a request is never sent again.
func TestAPIFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, path string
		code       int
		stderr     string
		stdout     string
	}{
		{"connection dropped", "/api/v1/drop", 6, "cannot reach", ""},
		{"5xx", "/api/v1/busy", 6, "server error: 503 Service Unavailable: try later (503000)", `{"ok":false,"error":{"code":503000,"message":"try later"}}`},
		{"404", "/api/v1/missing", 1, "the server answered 404 Not Found: no such route", `"code":404000`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newBackend(t)
			b.logIn(0)
			r := b.api("", "api", "-X", "POST", tt.path, "-d", `{"pay":10}`)
			wantExit(t, r, tt.code)
			if !strings.Contains(r.stderr, tt.stderr) || !strings.Contains(r.stdout, tt.stdout) {
				t.Errorf("stdout %q, stderr %q", r.stdout, r.stderr)
			}
			if strings.ContainsAny(r.stderr, "\x1b\u202e") {
				t.Errorf("stderr holds control characters from the server: %q", r.stderr)
			}
			if n := len(b.hitList()); n != 1 {
				t.Errorf("the POST was sent %d times, want once", n)
			}
			if n := countRequests(b.srv, "refresh", 200); n != 0 {
				t.Errorf("%d refreshes, want none", n)
			}
		})
	}
	t.Run("session revoked", func(t *testing.T) {
		t.Parallel()
		b := newBackend(t)
		b.logIn(0)
		revokeAll(b.cli)
		r := b.api("", "api", "/api/v1/echo")
		wantExit(t, r, 4)
		if !strings.Contains(r.stderr, "dyorctl login -u "+john) {
			t.Errorf("stderr %q", r.stderr)
		}
		if n := len(b.hitList()); n != 1 {
			t.Errorf("sent %d times, want once", n)
		}
	})
	t.Run("not logged in", func(t *testing.T) {
		t.Parallel()
		b := newBackend(t)
		wantExit(t, b.api("", "api", "/api/v1/echo"), 4)
		if n := len(b.hitList()); n != 0 {
			t.Errorf("sent %d requests without a session", n)
		}
	})
}

func TestAPIBadInput(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	b.logIn(0)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"api", "/api/v1/echo", "-H", "X-Test yes"}, "has no colon"},
		{[]string{"api", "/api/v1/echo", "-H", "Authorization: Bearer x"}, "access token itself"},
		{[]string{"api", "/api/v1/echo", "-H", "Bad Name: x"}, "not a header name"},
		{[]string{"api", "https://elsewhere.example/api/v1/echo"}, "must be a path on the server"},
		{[]string{"api", "//elsewhere.example/api"}, "must be a path on the server"},
		{[]string{"api", "/api/v1/account/login", "-d", "{}"}, `use "dyorctl login"`},
		{[]string{"api", "/api/v1/account/../account/refresh"}, `use "dyorctl refresh"`},
		{[]string{"api", "/api/v1/echo", "-X", "GET ME"}, "takes an HTTP method"},
		{[]string{"api", "/api/v1/echo", "-d", "{}", "--input", "-"}, "use one"},
		{[]string{"api", "/api/v1/echo", "--input", filepath.Join(t.TempDir(), "missing.json")}, "cannot be read"},
		{[]string{"api"}, "takes one PATH"},
		{[]string{"api", "/a", "/b"}, "takes one PATH"},
		{[]string{"api", "/api/v1/echo", "-o", "json"}, "run it without -o"},
	}
	for _, tt := range tests {
		r := b.api("", tt.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", tt.args, r.code, r.stderr, tt.want)
		}
		checkSentence(t, r.stderr)
	}
	if n := len(b.hitList()); n != 0 {
		t.Errorf("bad command lines sent %d requests", n)
	}
}

// A connection that could not be made sent nothing: even a POST is tried
// again.
func TestAPIRetriesDialErrors(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	b.logIn(0)
	var dials atomic.Int32
	b.setup = func(f *Factory) {
		f.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			if dials.Add(1) == 1 {
				return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
			}
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}
	}
	r := b.api("", "api", "-X", "POST", "/api/v1/echo", "-d", `{"once":true}`)
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	if got := dials.Load(); got != 2 {
		t.Errorf("%d dials, want 2", got)
	}
	if n := len(b.hitList()); n != 1 {
		t.Errorf("the server saw the POST %d times, want once", n)
	}
}

// With DYOR_TOKEN there is nothing to refresh: an expired answer is the
// end, and the stored session is not touched.
func TestAPIWithDYORToken(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	m, err := b.srv.MintSession(john, time.Minute, 0)
	if err != nil {
		t.Fatal(err)
	}
	b.env["DYOR_TOKEN"] = m.Access
	r := b.api("", "api", "/api/v1/echo")
	if r.code != 0 || !strings.Contains(r.stdout, `"method":"GET"`) {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if err := b.srv.Advance(2 * time.Minute); err != nil {
		t.Fatal(err)
	}
	r = b.api("", "api", "/api/v1/echo")
	wantExit(t, r, 4)
	if !strings.Contains(r.stderr, "DYOR_TOKEN") {
		t.Errorf("stderr %q", r.stderr)
	}
	if n := len(b.hitList()); n != 2 {
		t.Errorf("%d requests, want 2 (no replay)", n)
	}
	if n := countRequests(b.srv, "refresh", 200); n != 0 {
		t.Errorf("%d refreshes with DYOR_TOKEN", n)
	}
	noTokenIn(t, r, client.Tokens{Access: m.Access})
}
