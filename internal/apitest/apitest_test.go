package apitest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// recorder collects reports instead of failing the test.
type recorder struct {
	mu   sync.Mutex
	msgs []string
}

func (r *recorder) errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}

// recording returns a Validator whose reports go to a recorder.
func recording(t *testing.T) (*Validator, *recorder) {
	t.Helper()
	rec := &recorder{}
	v, err := newValidator(rec.errorf)
	if err != nil {
		t.Fatal(err)
	}
	return v, rec
}

func (r *recorder) reports() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.msgs...)
}

const (
	jwt       = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln"
	tokenPair = `{"ok":true,"result":{"token":{"access":"` + jwt + `","refresh":"` + jwt + `"}}}`
	empty     = `{"ok":true,"result":{}}`
	goodCreds = `{"username":"john@API","password":"honeyBunnies"}`
)

// answer returns a handler that drains the request and answers status and
// body as JSON, with extra headers given as name, value pairs.
func answer(status int, body string, headers ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

func apiErr(code int) string {
	return fmt.Sprintf(`{"ok":false,"error":{"code":%d,"message":"something"}}`, code)
}

type exchange struct {
	name    string
	handler http.Handler
	method  string
	path    string
	body    string
	ctype   string // "-" for none; "" for application/json when there is a body
	auth    string
	wantBad bool   // a report is expected
	want    string // a substring of the report, if wantBad
}

func run(t *testing.T, v *Validator, rec *recorder, x exchange) (*http.Response, []byte) {
	t.Helper()
	srv := httptest.NewServer(x.handler)
	t.Cleanup(srv.Close)
	var body io.Reader
	if x.body != "" {
		body = strings.NewReader(x.body)
	}
	req, err := http.NewRequest(x.method, srv.URL+x.path, body)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case x.ctype == "-":
	case x.ctype != "":
		req.Header.Set("Content-Type", x.ctype)
	case x.body != "":
		req.Header.Set("Content-Type", "application/json")
	}
	if x.auth != "" {
		req.Header.Set("Authorization", x.auth)
	}
	resp, err := v.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", x.method, x.path, err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the body: %v", err)
	}
	return resp, got
}

func TestExchanges(t *testing.T) {
	big := `{"username":"john@API","password":"honeyBunnies","pad":"` + strings.Repeat("x", 100<<10) + `"}`
	accounts := `{"ok":true,"result":{"accounts":[` +
		`{"id":"a1","username":"john@API","locked_until":null},` +
		`{"id":"a2","username":"jane@API","locked_until":"2026-01-01T12:15:00Z"}]}}`
	fault := `{"id":"f1","route":"login","status":503,"retry_after":"0s","delay":"2s","drop":false,"truncate":false,` +
		`"after":false,"collide":0,"timeout":"0s","times":2,"remaining":2,"held":0,"probability":0}`
	cases := []exchange{
		// The four routes answering as they should.
		{name: "login ok", handler: answer(200, tokenPair), method: "POST", path: "/api/v1/account/login", body: goodCreds},
		{name: "login charset", handler: answer(200, tokenPair), method: "POST", path: "/api/v1/account/login", body: goodCreds, ctype: "application/json; charset=utf-8"},
		{name: "login no content type", handler: answer(200, tokenPair), method: "POST", path: "/api/v1/account/login", body: goodCreds, ctype: "-"},
		{name: "login wrong password", handler: answer(401, apiErr(401005)), method: "POST", path: "/api/v1/account/login", body: `{"username":"john@API","password":"nope-nope"}`},
		{name: "login locked", handler: answer(403, apiErr(403002)), method: "POST", path: "/api/v1/account/login", body: goodCreds},
		{name: "login unknown account", handler: answer(404, apiErr(404001)), method: "POST", path: "/api/v1/account/login", body: goodCreds},
		{name: "login injected 503", handler: answer(503, apiErr(503000)), method: "POST", path: "/api/v1/account/login", body: goodCreds},
		{name: "register ok", handler: answer(200, empty), method: "POST", path: "/api/v1/account/register", body: goodCreds},
		{name: "register taken", handler: answer(409, apiErr(409001)), method: "POST", path: "/api/v1/account/register", body: goodCreds},
		{name: "refresh ok", handler: answer(200, tokenPair), method: "GET", path: "/api/v1/account/refresh", auth: "Bearer " + jwt},
		{name: "refresh no token", handler: answer(401, apiErr(401001)), method: "GET", path: "/api/v1/account/refresh"},
		{name: "logout ok", handler: answer(200, empty), method: "DELETE", path: "/api/v1/account/logout", auth: "bearer " + jwt},
		{name: "logout expired", handler: answer(401, apiErr(401003)), method: "DELETE", path: "/api/v1/account/logout", auth: "Bearer x"},
		{name: "healthz", handler: answer(200, empty), method: "GET", path: "/healthz"},

		// Broken requests answered with an error are not violations.
		{name: "invalid JSON 400001", handler: answer(400, apiErr(400001)), method: "POST", path: "/api/v1/account/register", body: `{"username":`},
		{name: "not an object 400001", handler: answer(400, apiErr(400001)), method: "POST", path: "/api/v1/account/login", body: `[1,2]`},
		{name: "empty body 400001", handler: answer(400, apiErr(400001)), method: "POST", path: "/api/v1/account/login"},
		{name: "short username 400002", handler: answer(400, apiErr(400002)), method: "POST", path: "/api/v1/account/register", body: `{"username":"ab","password":"honeyBunnies"}`},
		{name: "wrong type 415001", handler: answer(415, apiErr(415001)), method: "POST", path: "/api/v1/account/register", body: goodCreds, ctype: "text/plain"},
		{name: "too large 413001", handler: answer(413, apiErr(413001)), method: "POST", path: "/api/v1/account/register", body: big},

		// Broken requests accepted are violations.
		{name: "invalid JSON accepted", handler: answer(200, empty), method: "POST", path: "/api/v1/account/register", body: `{"username":`, wantBad: true, want: "accepted a request that breaks the contract"},
		{name: "short username accepted", handler: answer(200, empty), method: "POST", path: "/api/v1/account/register", body: `{"username":"ab","password":"honeyBunnies"}`, wantBad: true, want: "accepted a request that breaks the contract"},
		{name: "missing password accepted", handler: answer(200, tokenPair), method: "POST", path: "/api/v1/account/login", body: `{"username":"john@API"}`, wantBad: true, want: "accepted a request that breaks the contract"},
		{name: "text/plain accepted", handler: answer(200, empty), method: "POST", path: "/api/v1/account/register", body: goodCreds, ctype: "text/plain", wantBad: true, want: "accepted a request that breaks the contract"},
		{name: "too large accepted", handler: answer(200, empty), method: "POST", path: "/api/v1/account/register", body: big, wantBad: true, want: "larger than 64 KiB"},

		// Wrong answers.
		{name: "login empty result", handler: answer(200, empty), method: "POST", path: "/api/v1/account/login", body: goodCreds, wantBad: true, want: "the answer breaks api/openapi.yaml"},
		{name: "login missing refresh", handler: answer(200, `{"ok":true,"result":{"token":{"access":"`+jwt+`"}}}`), method: "POST", path: "/api/v1/account/login", body: goodCreds, wantBad: true},
		{name: "login token not a JWT", handler: answer(200, `{"ok":true,"result":{"token":{"access":"abc","refresh":"abc"}}}`), method: "POST", path: "/api/v1/account/login", body: goodCreds, wantBad: true},
		{name: "ok false on 200", handler: answer(200, `{"ok":false,"result":{}}`), method: "DELETE", path: "/api/v1/account/logout", wantBad: true},
		{name: "logout extra result", handler: answer(200, `{"ok":true,"result":{"x":1}}`), method: "DELETE", path: "/api/v1/account/logout", wantBad: true},
		{name: "code does not match status", handler: answer(401, apiErr(400002)), method: "POST", path: "/api/v1/account/login", body: goodCreds, wantBad: true, want: "want status 400 = code / 1000"},
		{name: "unused code 401006", handler: answer(401, apiErr(401006)), method: "POST", path: "/api/v1/account/login", body: goodCreds, wantBad: true},
		{name: "error without message", handler: answer(400, `{"ok":false,"error":{"code":400001}}`), method: "POST", path: "/api/v1/account/login", wantBad: true},
		{name: "error with ok true", handler: answer(400, `{"ok":true,"error":{"code":400001,"message":"x"}}`), method: "POST", path: "/api/v1/account/login", wantBad: true},
		{name: "2xx other than 200", handler: answer(201, empty), method: "POST", path: "/api/v1/account/register", body: goodCreds, wantBad: true},
		{name: "undocumented status on control plane", handler: answer(201, empty), method: "POST", path: "/_mock/reset", wantBad: true, want: "status is not supported"},
		{name: "text/plain answer", handler: answer(200, empty, "Content-Type", "text/plain"), method: "DELETE", path: "/api/v1/account/logout", wantBad: true},
		{name: "not JSON", handler: answer(200, "ok", "Content-Type", "text/plain"), method: "GET", path: "/healthz", wantBad: true, want: "not JSON"},

		// Requests matching no operation.
		{name: "unknown path 404000", handler: answer(404, apiErr(404000)), method: "GET", path: "/api/v1/account/whoami"},
		{name: "unknown path 200", handler: answer(200, empty), method: "GET", path: "/api/v1/account/whoami", wantBad: true, want: "no operation of the contract"},
		{name: "unknown path plain 404", handler: answer(404, "404 page not found\n", "Content-Type", "text/plain"), method: "GET", path: "/nope", wantBad: true, want: "not JSON"},
		{name: "unknown path wrong code", handler: answer(404, apiErr(404001)), method: "GET", path: "/nope", wantBad: true, want: "want 404000"},
		{name: "wrong method 405000", handler: answer(405, apiErr(405000), "Allow", "POST"), method: "GET", path: "/api/v1/account/login"},
		{name: "wrong method no Allow", handler: answer(405, apiErr(405000)), method: "GET", path: "/api/v1/account/login", wantBad: true, want: "Allow"},
		{name: "wrong method Allow lacks a method", handler: answer(405, apiErr(405000), "Allow", "GET, POST"), method: "PUT", path: "/_mock/faults", wantBad: true, want: "lacks DELETE"},
		{name: "wrong method answered 404", handler: answer(404, apiErr(404000)), method: "GET", path: "/api/v1/account/logout", wantBad: true, want: "want 405"},
		{name: "control plane off", handler: answer(404, apiErr(404000)), method: "PUT", path: "/_mock/clock"},

		// The control plane.
		{name: "accounts", handler: answer(200, accounts), method: "GET", path: "/_mock/accounts"},
		{name: "accounts missing locked_until", handler: answer(200, `{"ok":true,"result":{"accounts":[{"id":"a1","username":"john@API"}]}}`), method: "GET", path: "/_mock/accounts", wantBad: true},
		{name: "accounts bad time", handler: answer(200, `{"ok":true,"result":{"accounts":[{"id":"a1","username":"john@API","locked_until":"tomorrow"}]}}`), method: "GET", path: "/_mock/accounts", wantBad: true},
		{name: "add account", handler: answer(200, `{"ok":true,"result":{"id":"a3","username":"neo@API","locked_until":null}}`), method: "POST", path: "/_mock/accounts", body: `{"username":"neo@API","password":"12345678"}`},
		{name: "control plane off on a route", handler: answer(404, apiErr(404000)), method: "GET", path: "/_mock/accounts"},
		{name: "sessions", handler: answer(200, `{"ok":true,"result":{"sessions":[{"id":"s1","username":"john@API","created_at":"2026-01-01T12:00:00Z","expires_at":"2026-01-08T12:00:00.5+01:00"}]}}`), method: "GET", path: "/_mock/sessions"},
		{name: "mint", handler: answer(200, `{"ok":true,"result":{"session_id":"s1","token":{"access":"`+jwt+`","refresh":"`+jwt+`"}}}`), method: "POST", path: "/_mock/sessions", body: `{"username":"john@API","access_ttl":"1s"}`},
		{name: "mint bad ttl accepted", handler: answer(200, `{"ok":true,"result":{"session_id":"s1","token":{"access":"`+jwt+`","refresh":"`+jwt+`"}}}`), method: "POST", path: "/_mock/sessions", body: `{"username":"john@API","access_ttl":"soon"}`, wantBad: true},
		{name: "mint unknown", handler: answer(404, apiErr(404001)), method: "POST", path: "/_mock/sessions", body: `{"username":"nobody"}`},
		{name: "revoke", handler: answer(200, empty), method: "DELETE", path: "/_mock/sessions/s1"},
		{name: "revoke unknown", handler: answer(404, apiErr(404002)), method: "DELETE", path: "/_mock/sessions/s9"},
		{name: "reset", handler: answer(200, empty), method: "POST", path: "/_mock/reset"},
		{name: "faults", handler: answer(200, `{"ok":true,"result":{"faults":[`+fault+`]}}`), method: "GET", path: "/_mock/faults"},
		{name: "faults missing key", handler: answer(200, `{"ok":true,"result":{"faults":[{"route":"login","status":503}]}}`), method: "GET", path: "/_mock/faults", wantBad: true},
		{name: "faults bad route", handler: answer(200, `{"ok":true,"result":{"faults":[`+strings.Replace(fault, "login", "status", 1)+`]}}`), method: "GET", path: "/_mock/faults", wantBad: true},
		{name: "add fault", handler: answer(200, `{"ok":true,"result":`+fault+`}`), method: "POST", path: "/_mock/faults", body: `{"route":"login","status":503,"delay":"2s","times":2}`},
		{name: "add bad fault", handler: answer(400, apiErr(400002)), method: "POST", path: "/_mock/faults", body: `{"route":"nowhere"}`},
		{name: "clear faults", handler: answer(200, empty), method: "DELETE", path: "/_mock/faults"},
		{name: "clock", handler: answer(200, `{"ok":true,"result":{"now":"2026-01-01T12:00:00Z"}}`), method: "GET", path: "/_mock/clock"},
		{name: "advance", handler: answer(200, `{"ok":true,"result":{"now":"2026-01-01T12:16:00Z"}}`), method: "POST", path: "/_mock/clock", body: `{"advance":"16m"}`},
		{name: "advance bad", handler: answer(400, apiErr(400002)), method: "POST", path: "/_mock/clock", body: `{"advance":"-1m"}`},
		{name: "clock not a time", handler: answer(200, `{"ok":true,"result":{"now":12}}`), method: "GET", path: "/_mock/clock", wantBad: true},
		{name: "requests", handler: answer(200, `{"ok":true,"result":{"requests":[{"method":"POST","path":"/api/v1/account/login","status":200,"code":0,"duration_ms":1.5,"time":"2026-01-01T12:00:00Z"},{"method":"GET","path":"/api/v1/account/refresh","status":0,"code":0,"duration_ms":0,"time":"2026-01-01T12:00:01Z"}]}}`), method: "GET", path: "/_mock/requests"},
		{name: "requests missing code", handler: answer(200, `{"ok":true,"result":{"requests":[{"method":"POST","path":"/x","status":200,"duration_ms":1.5,"time":"2026-01-01T12:00:00Z"}]}}`), method: "GET", path: "/_mock/requests", wantBad: true},
	}
	for _, x := range cases {
		t.Run(x.name, func(t *testing.T) {
			v, rec := recording(t)
			run(t, v, rec, x)
			got := rec.reports()
			for _, r := range got {
				t.Log(r)
			}
			switch {
			case !x.wantBad && len(got) > 0:
				t.Errorf("unexpected reports:\n%s", strings.Join(got, "\n"))
			case x.wantBad && len(got) == 0:
				t.Errorf("no report, want one")
			case x.wantBad && x.want != "" && !strings.Contains(strings.Join(got, "\n"), x.want):
				t.Errorf("reports do not mention %q:\n%s", x.want, strings.Join(got, "\n"))
			}
		})
	}
}

// TestBodiesPassThrough checks that the server gets the request body and the
// caller the response body, both unchanged.
func TestBodiesPassThrough(t *testing.T) {
	var got []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = io.ReadAll(r.Body)
		answer(200, tokenPair)(w, r)
	}))
	defer srv.Close()
	v, rec := recording(t)
	resp, err := v.Client().Post(srv.URL+"/api/v1/account/login", "application/json", strings.NewReader(goodCreds))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != goodCreds {
		t.Errorf("server got %q, want %q", got, goodCreds)
	}
	if string(body) != tokenPair {
		t.Errorf("caller got %q, want %q", body, tokenPair)
	}
	if r := rec.reports(); len(r) > 0 {
		t.Errorf("unexpected reports: %v", r)
	}
}

// TestHugeBodyStreams checks that a body too long to buffer still reaches the
// server whole.
func TestHugeBodyStreams(t *testing.T) {
	const n = 3 << 20
	var got int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = io.Copy(io.Discard, r.Body)
		answer(413, apiErr(413001))(w, r)
	}))
	defer srv.Close()
	v, rec := recording(t)
	body := io.MultiReader(strings.NewReader(`{"pad":"`), io.LimitReader(zeros{}, n))
	resp, err := v.Client().Post(srv.URL+"/api/v1/account/register", "application/json", body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if want := int64(n + len(`{"pad":"`)); got != want {
		t.Errorf("server got %d bytes, want %d", got, want)
	}
	if resp.StatusCode != 413 {
		t.Errorf("status %d", resp.StatusCode)
	}
	if r := rec.reports(); len(r) > 0 {
		t.Errorf("unexpected reports: %v", r)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = '0'
	}
	return len(p), nil
}

// truncated answers a JSON body cut short; the response itself ends cleanly.
var truncated = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, tokenPair[:20])
})

func TestTruncatedBody(t *testing.T) {
	srv := httptest.NewServer(truncated)
	defer srv.Close()
	for _, allow := range []bool{false, true} {
		v, rec := recording(t)
		if allow {
			v.AllowTruncatedBodies()
		}
		resp, err := v.Client().Post(srv.URL+"/api/v1/account/login", "application/json", strings.NewReader(goodCreds))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != tokenPair[:20] {
			t.Errorf("caller got %q", body)
		}
		if got := rec.reports(); allow != (len(got) == 0) {
			t.Errorf("AllowTruncatedBodies %v: reports %v", allow, got)
		}
	}
}

// TestShortBody checks that a body shorter than its Content-Length reaches
// the caller with the read error, unreported.
func TestShortBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", fmt.Sprint(len(tokenPair)))
		_, _ = io.WriteString(w, tokenPair[:20])
		if hj, ok := w.(http.Hijacker); ok {
			conn, _, err := hj.Hijack()
			if err == nil {
				conn.Close()
			}
		}
	}))
	defer srv.Close()
	v, rec := recording(t)
	resp, err := v.Client().Post(srv.URL+"/api/v1/account/login", "application/json", strings.NewReader(goodCreds))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil {
		t.Errorf("reading a short body succeeded: %q", body)
	}
	if !bytes.HasPrefix([]byte(tokenPair), body) {
		t.Errorf("caller got %q", body)
	}
	if r := rec.reports(); len(r) > 0 {
		t.Errorf("unexpected reports: %v", r)
	}
}

// TestDroppedConnection checks that a transport error is returned as is.
func TestDroppedConnection(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	defer srv.Close()
	v, rec := recording(t)
	resp, err := v.Client().Post(srv.URL+"/api/v1/account/login", "application/json", strings.NewReader(goodCreds))
	if err == nil {
		resp.Body.Close()
		t.Fatal("no error for a dropped connection")
	}
	if r := rec.reports(); len(r) > 0 {
		t.Errorf("unexpected reports: %v", r)
	}
}

// TestNewValidator checks the exported constructor on a valid exchange, in
// parallel with itself.
func TestNewValidator(t *testing.T) {
	srv := httptest.NewServer(answer(200, tokenPair))
	defer srv.Close()
	v := NewValidator(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			resp, err := v.Client().Post(srv.URL+"/api/v1/account/login", "application/json", strings.NewReader(goodCreds))
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
		})
	}
	wg.Wait()
}
