package conformance_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"

	"github.com/dyor-exchange/dyorctl/api"
	"github.com/dyor-exchange/dyorctl/conformance"
	"github.com/dyor-exchange/dyorctl/internal/dyormockcmd"
	"github.com/dyor-exchange/dyorctl/mock"
)

// The broken servers are dyormock behind a handler that breaks one rule of
// the contract, as a real server might. Each must make the named cases
// fail, and together they must make every case of the suite fail at least
// once: no case passes whatever the server does.

var secret = []byte("conformance-test-secret")

// exchange is one request through a broken server and, once the mock has
// answered, its answer (which the hooks may change).
type exchange struct {
	r       *http.Request
	reqBody []byte
	status  int
	header  http.Header
	body    []byte
}

// hooks break a server: before may answer in the mock's place (returning
// true) or change the request; after may change the answer.
type hooks struct {
	before func(x *exchange) bool
	after  func(x *exchange)
}

func wrap(next http.Handler, h hooks) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		x := &exchange{r: r, reqBody: body, header: http.Header{}}
		if h.before != nil && h.before(x) {
			x.write(w)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(x.reqBody))
		r.ContentLength = int64(len(x.reqBody))
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		x.status, x.header, x.body = rec.Code, rec.Header(), rec.Body.Bytes()
		if h.after != nil {
			h.after(x)
		}
		x.write(w)
	})
}

func (x *exchange) write(w http.ResponseWriter) {
	for k, v := range x.header {
		if k != "Content-Length" {
			w.Header()[k] = v
		}
	}
	w.WriteHeader(x.status)
	_, _ = w.Write(x.body)
}

func (x *exchange) is(path string) bool { return x.r.URL.Path == path }

// answer makes x the error envelope of code.
func (x *exchange) answer(code api.Code, msg string) {
	x.status = code.Status()
	x.header = http.Header{"Content-Type": {"application/json"}}
	x.body, _ = json.Marshal(api.Envelope{Error: &api.ErrorBody{Code: code, Message: msg}})
}

// ok makes x the success envelope with result.
func (x *exchange) ok(result string) {
	x.status = http.StatusOK
	x.header = http.Header{"Content-Type": {"application/json"}}
	x.body = []byte(`{"ok":true,"result":` + result + `}`)
}

func (x *exchange) code() api.Code {
	var env api.Envelope
	if json.Unmarshal(x.body, &env) != nil || env.Error == nil {
		return 0
	}
	return env.Error.Code
}

// setCode rewrites the code of an error answer, and its status to match.
func (x *exchange) setCode(code api.Code) {
	var env api.Envelope
	_ = json.Unmarshal(x.body, &env)
	x.answer(code, env.Error.Message)
}

func (x *exchange) token() string {
	_, tok, _ := strings.Cut(x.r.Header.Get("Authorization"), " ")
	return tok
}

func (x *exchange) username() string {
	var c api.Credentials
	_ = json.Unmarshal(x.reqBody, &c)
	return c.Username
}

// pair returns the token pair of a login or refresh success.
func (x *exchange) pair() (api.TokenPair, bool) {
	if x.status != http.StatusOK || !(x.is(api.LoginPath) || x.is(api.RefreshPath)) {
		return api.TokenPair{}, false
	}
	var env struct {
		Result api.TokenResult `json:"result"`
	}
	if json.Unmarshal(x.body, &env) != nil {
		return api.TokenPair{}, false
	}
	return env.Result.Token, true
}

func (x *exchange) setPair(p api.TokenPair) {
	b, _ := json.Marshal(api.TokenResult{Token: p})
	x.ok(string(b))
}

func claimsOf(tok string) jwt.MapClaims {
	c := jwt.MapClaims{}
	_, _, _ = jwt.NewParser().ParseUnverified(tok, c)
	return c
}

func resign(tok string, edit func(jwt.MapClaims)) string {
	c := claimsOf(tok)
	edit(c)
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(secret)
	if err != nil {
		panic(err)
	}
	return s
}

// editTokens re-signs the tokens of the answers of paths with edit.
func editTokens(edit func(jwt.MapClaims), paths ...string) hooks {
	return hooks{after: func(x *exchange) {
		if !slices.ContainsFunc(paths, x.is) {
			return
		}
		if p, ok := x.pair(); ok {
			x.setPair(api.TokenPair{Access: resign(p.Access, edit), Refresh: resign(p.Refresh, edit)})
		}
	}}
}

// codeAs answers from as to.
func codeAs(from, to api.Code) hooks {
	return hooks{after: func(x *exchange) {
		if x.code() == from {
			x.setCode(to)
		}
	}}
}

// set is a set of strings safe for the server's goroutines.
type set struct {
	mu sync.Mutex
	m  map[string]bool
}

func (s *set) add(k string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]bool{}
	}
	s.m[k] = true
}

func (s *set) has(k string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[k]
}

func (s *set) keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Collect(maps.Keys(s.m))
}

// revokeAccount ends every live session of the account of tok.
func revokeAccount(srv *mock.Server, tok string) {
	sub, _ := claimsOf(tok)[api.ClaimSubject].(string)
	var username string
	for _, a := range srv.Accounts() {
		if a.ID == sub {
			username = a.Username
		}
	}
	for _, s := range srv.Sessions() {
		if s.Username == username {
			_ = srv.RevokeSession(s.ID)
		}
	}
}

type brokenServer struct {
	name  string
	hooks func(srv *mock.Server) hooks
	fails []string // cases that must fail
}

func brokenServers() []brokenServer {
	fixed := func(h hooks) func(*mock.Server) hooks { return func(*mock.Server) hooks { return h } }
	return []brokenServer{
		{name: "reuse detection off", fails: []string{"rotation/reuse-detected", "rotation/reuse-revokes-descendants"},
			hooks: func(*mock.Server) hooks {
				var rotated set
				return hooks{
					before: func(x *exchange) bool {
						if x.is(api.RefreshPath) && rotated.has(x.token()) {
							x.answer(api.CodeSessionNotFound, "session not found")
							return true // the chain is left alone
						}
						return false
					},
					after: func(x *exchange) {
						if x.is(api.RefreshPath) && x.status == http.StatusOK {
							rotated.add(x.token())
						}
					}}
			}},
		{name: "logout keeps the access token working", fails: []string{"logout/access-token"},
			hooks: func(*mock.Server) hooks {
				var out set
				return hooks{
					before: func(x *exchange) bool {
						if x.is(api.LogoutPath) && out.has(x.token()) {
							x.ok("{}")
							return true
						}
						return false
					},
					after: func(x *exchange) {
						if x.is(api.LogoutPath) && x.status == http.StatusOK {
							out.add(x.token())
						}
					}}
			}},
		{name: "401003 answered as 401002", fails: []string{"expiry/access", "expiry/before-type", "expiry/refresh"},
			hooks: fixed(codeAs(api.CodeTokenExpired, api.CodeBadToken))},
		{name: "a 500 on an empty body", fails: []string{"body/empty"},
			hooks: fixed(hooks{before: func(x *exchange) bool {
				if x.r.Method == http.MethodPost && len(x.reqBody) == 0 {
					x.answer(api.CodeInternal, "EOF")
					return true
				}
				return false
			}})},
		{name: "Bearer matched case-sensitively", fails: []string{"auth/scheme-case-insensitive"},
			hooks: fixed(hooks{before: func(x *exchange) bool {
				if h := x.r.Header.Get("Authorization"); h != "" && !strings.HasPrefix(h, "Bearer ") {
					x.answer(api.CodeNoToken, "no bearer token")
					return true
				}
				return false
			}})},
		{name: "a status that is not code / 1000", fails: []string{"register/taken"},
			hooks: fixed(hooks{after: func(x *exchange) {
				if x.code() == api.CodeUsernameTaken {
					x.status = http.StatusBadRequest
				}
			}})},
		{name: "a loosened rule: long usernames truncated", fails: []string{"input/username/too-long"},
			hooks: fixed(hooks{before: func(x *exchange) bool {
				var c api.Credentials
				if (x.is(api.RegisterPath) || x.is(api.LoginPath)) && json.Unmarshal(x.reqBody, &c) == nil && utf8.RuneCountInString(c.Username) > api.MaxUsernameRunes {
					c.Username = string([]rune(c.Username)[:api.MaxUsernameRunes])
					x.reqBody, _ = json.Marshal(c)
				}
				return false
			}})},
		{name: "a tightened rule: 64-character usernames refused", fails: []string{"input/at-the-limits"},
			hooks: fixed(hooks{before: func(x *exchange) bool {
				if utf8.RuneCountInString(x.username()) == api.MaxUsernameRunes {
					x.answer(api.CodeInvalidField, "username must be 3 to 63 characters long")
					return true
				}
				return false
			}})},
		{name: "405 without Allow", fails: []string{"route/method-not-allowed/register", "route/method-not-allowed/login", "route/method-not-allowed/refresh", "route/method-not-allowed/logout"},
			hooks: fixed(hooks{after: func(x *exchange) { x.header.Del("Allow") }})},
		{name: "tokens without jti", fails: []string{"token/claims"},
			hooks: fixed(editTokens(func(c jwt.MapClaims) { delete(c, api.ClaimID) }, api.LoginPath, api.RefreshPath))},
		{name: "refresh changes the issuer", fails: []string{"token/claims-after-refresh"},
			hooks: fixed(editTokens(func(c jwt.MapClaims) { c[api.ClaimIssuer] = "someone-else" }, api.RefreshPath))},
		{name: "one session id for every login", fails: []string{"login/sessions-are-separate"},
			hooks: fixed(editTokens(func(c jwt.MapClaims) { c[api.ClaimSessionID] = "the-one-session" }, api.LoginPath))},
		{name: "login answers one token twice", fails: []string{"login/ok"},
			hooks: fixed(hooks{after: func(x *exchange) {
				if p, ok := x.pair(); ok && x.is(api.LoginPath) {
					x.setPair(api.TokenPair{Access: p.Access, Refresh: p.Access})
				}
			}})},
		{name: "refresh does not rotate the refresh token", fails: []string{"rotation/refresh"},
			hooks: fixed(hooks{after: func(x *exchange) {
				if p, ok := x.pair(); ok && x.is(api.RefreshPath) {
					x.setPair(api.TokenPair{Access: p.Access, Refresh: x.token()})
				}
			}})},
		{name: "refresh keeps the old access token working", fails: []string{"rotation/old-access-refused"},
			hooks: func(*mock.Server) hooks {
				var mu sync.Mutex
				accessOf := map[string]string{} // sid → access token
				var kept set
				return hooks{
					before: func(x *exchange) bool {
						if x.is(api.LogoutPath) && kept.has(x.token()) {
							x.ok("{}")
							return true
						}
						return false
					},
					after: func(x *exchange) {
						p, ok := x.pair()
						if !ok {
							return
						}
						mu.Lock()
						defer mu.Unlock()
						if x.is(api.RefreshPath) {
							if old := accessOf[claimsOf(x.token())[api.ClaimSessionID].(string)]; old != "" {
								kept.add(old)
							}
						}
						accessOf[claimsOf(p.Access)[api.ClaimSessionID].(string)] = p.Access
					}}
			}},
		{name: "reuse revokes every session of the account", fails: []string{"rotation/reuse-spares-other-sessions"},
			hooks: func(srv *mock.Server) hooks {
				return hooks{after: func(x *exchange) {
					if x.is(api.RefreshPath) && x.code() == api.CodeSessionNotFound {
						revokeAccount(srv, x.token())
					}
				}}
			}},
		{name: "logout ends every session of the account", fails: []string{"logout/only-its-session"},
			hooks: func(srv *mock.Server) hooks {
				return hooks{after: func(x *exchange) {
					if x.is(api.LogoutPath) && x.status == http.StatusOK {
						revokeAccount(srv, x.token())
					}
				}}
			}},
		{name: "logout refuses the refresh token", fails: []string{"logout/refresh-token"},
			hooks: fixed(hooks{before: func(x *exchange) bool {
				if x.is(api.LogoutPath) && claimsOf(x.token())[api.ClaimType] == api.TypeRefresh {
					x.answer(api.CodeBadToken, "wrong token type")
					return true
				}
				return false
			}})},
		{name: "lockout counts wrong passwords that a correct login should have reset", fails: []string{"lockout/reset-by-correct-login"},
			hooks: func(*mock.Server) hooks {
				var mu sync.Mutex
				wrong := map[string]int{}
				return hooks{
					before: func(x *exchange) bool {
						mu.Lock()
						defer mu.Unlock()
						if x.is(api.LoginPath) && wrong[x.username()] >= mock.DefaultLockoutAttempts {
							x.answer(api.CodeAccountLocked, "account locked")
							return true
						}
						return false
					},
					after: func(x *exchange) {
						mu.Lock()
						defer mu.Unlock()
						if x.is(api.LoginPath) && x.code() == api.CodeWrongPassword {
							wrong[x.username()]++
						}
					}}
			}},
		{name: "a lockout that never ends", fails: []string{"lockout/ends"},
			hooks: func(*mock.Server) hooks {
				var locked set
				return hooks{
					before: func(x *exchange) bool {
						if x.is(api.LoginPath) && locked.has(x.username()) {
							x.answer(api.CodeAccountLocked, "account locked")
							return true
						}
						return false
					},
					after: func(x *exchange) {
						if x.is(api.LoginPath) && x.code() == api.CodeAccountLocked {
							locked.add(x.username())
						}
					}}
			}},
		{name: "one locked account locks every login", fails: []string{"lockout/per-account"},
			hooks: func(*mock.Server) hooks {
				var locked set
				return hooks{
					before: func(x *exchange) bool {
						if x.is(api.LoginPath) && locked.has("any") {
							x.answer(api.CodeAccountLocked, "account locked")
							return true
						}
						return false
					},
					after: func(x *exchange) {
						if x.is(api.LoginPath) && x.code() == api.CodeAccountLocked {
							locked.add("any")
						}
					}}
			}},
		{name: "sessions never leave the list", fails: []string{"control/sessions-listed", "sweep/expired-sessions"},
			hooks: func(*mock.Server) hooks {
				var seen set
				return hooks{after: func(x *exchange) {
					if p, ok := x.pair(); ok {
						seen.add(claimsOf(p.Access)[api.ClaimSessionID].(string))
					}
					if x.is("/_mock/sessions") && x.r.Method == http.MethodGet && x.status == http.StatusOK {
						var list []map[string]any
						for _, id := range seen.keys() {
							list = append(list, map[string]any{"id": id, "username": "x", "created_at": "2026-01-01T00:00:00Z", "expires_at": "2026-01-01T00:00:00Z"})
						}
						b, _ := json.Marshal(map[string]any{"sessions": list})
						x.ok(string(b))
					}
				}}
			}},
		{name: "no /healthz", fails: []string{"health"},
			hooks: fixed(hooks{before: func(x *exchange) bool {
				if x.is(api.HealthPath) {
					x.answer(api.CodeInternal, "down")
					return true
				}
				return false
			}})},
		{name: "register answers more than {}", fails: []string{"register/ok"},
			hooks: fixed(hooks{after: func(x *exchange) {
				if x.is(api.RegisterPath) && x.status == http.StatusOK {
					x.ok(`{"created":true}`)
				}
			}})},
		{name: "answers as text/html", fails: []string{"login/ok", "register/ok"},
			hooks: fixed(hooks{after: func(x *exchange) { x.header.Set("Content-Type", "text/html") }})},
		{name: "error messages left empty", fails: []string{"envelope/errors"},
			hooks: fixed(hooks{after: func(x *exchange) {
				if c := x.code(); c != 0 {
					x.answer(c, "")
				}
			}})},
		{name: "unknown account answered as a wrong password", fails: []string{"login/unknown-account"},
			hooks: fixed(codeAs(api.CodeAccountNotFound, api.CodeWrongPassword))},
		{name: "wrong password answered as 401004", fails: []string{"login/wrong-password", "register/taken", "lockout/locks", "lockout/reset-by-correct-login"},
			hooks: fixed(codeAs(api.CodeWrongPassword, api.CodeSessionNotFound))},
		{name: "a lock answered as a wrong password", fails: []string{"lockout/locks"},
			hooks: fixed(codeAs(api.CodeAccountLocked, api.CodeWrongPassword))},
		{name: "text/plain read as JSON", fails: []string{"body/wrong-content-type"},
			hooks: fixed(hooks{before: func(x *exchange) bool {
				if strings.HasPrefix(x.r.Header.Get("Content-Type"), "text/plain") && len(x.reqBody) > 0 {
					x.r.Header.Set("Content-Type", "application/json")
				}
				return false
			}})},
		{name: "charset refused", fails: []string{"body/charset-accepted"},
			hooks: fixed(hooks{before: func(x *exchange) bool {
				if strings.Contains(x.r.Header.Get("Content-Type"), ";") {
					x.answer(api.CodeUnsupportedType, "Content-Type must be application/json")
					return true
				}
				return false
			}})},
		{name: "a large body answered 400001", fails: []string{"body/too-large"},
			hooks: fixed(hooks{before: func(x *exchange) bool {
				if len(x.reqBody) > api.MaxBodyBytes {
					x.answer(api.CodeInvalidJSON, "bad body")
					return true
				}
				return false
			}})},
		{name: "400001 answered as 400002", fails: []string{"body/not-json", "body/not-an-object", "body/data-after-the-object", "body/empty"},
			hooks: fixed(codeAs(api.CodeInvalidJSON, api.CodeInvalidField))},
		{name: "400002 answered as 400001", fails: inputRuleCases(),
			hooks: fixed(codeAs(api.CodeInvalidField, api.CodeInvalidJSON))},
		{name: "401001 answered as 401002", fails: []string{"auth/missing", "auth/not-bearer"},
			hooks: fixed(codeAs(api.CodeNoToken, api.CodeBadToken))},
		{name: "401002 answered as 401004", fails: []string{"auth/malformed-token", "auth/bad-signature", "auth/alg-none", "typ/access-on-refresh"},
			hooks: fixed(codeAs(api.CodeBadToken, api.CodeSessionNotFound))},
		{name: "404000 answered as 404001", fails: []string{"route/unknown-path"},
			hooks: fixed(codeAs(api.CodeNoRoute, api.CodeAccountNotFound))},
	}
}

// inputRuleCases are the cases of one input rule each.
func inputRuleCases() []string {
	var out []string
	for _, c := range conformance.Cases() {
		if strings.HasPrefix(c.Name, "input/") && c.Name != "input/at-the-limits" {
			out = append(out, c.Name)
		}
	}
	return out
}

// only selects the cases named: running the whole suite against every
// broken server would show no more (the cases are independent) and cost
// minutes under the race detector.
func only(names []string) *regexp.Regexp {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = regexp.QuoteMeta(n)
	}
	return regexp.MustCompile("^(" + strings.Join(q, "|") + ")$")
}

func startBroken(t *testing.T, b brokenServer) string {
	srv := mock.Start(t, mock.WithBcryptCost(4), mock.WithSecret(secret))
	hs := httptest.NewServer(wrap(srv.Handler(), b.hooks(srv)))
	t.Cleanup(hs.Close)
	return hs.URL
}

// Every broken server makes its cases fail, and every case of the suite
// fails against at least one of them. Each server runs the cases it names
// (the cases are independent: each registers its own accounts).
func TestEveryCaseCanFail(t *testing.T) {
	failedSomewhere := map[string]bool{}
	for _, b := range brokenServers() {
		t.Run(b.name, func(t *testing.T) {
			url := startBroken(t, b)
			rep, err := conformance.Check(context.Background(), conformance.Target{URL: url, Rate: -1}, conformance.Options{Run: only(b.fails)})
			if err != nil {
				t.Fatal(err)
			}
			status := map[string]conformance.Result{}
			for _, r := range rep.Results {
				status[r.Name] = r
				if r.Status == conformance.Fail {
					failedSomewhere[r.Name] = true
				}
			}
			for _, name := range b.fails {
				r, ok := status[name]
				if !ok {
					t.Errorf("no case %q", name)
					continue
				}
				if r.Status != conformance.Fail {
					t.Errorf("%s: %s, want fail", name, r.Status)
				} else {
					t.Logf("FAIL %s: %s", name, r.Message)
				}
			}
			if rep.Failed == 0 {
				t.Errorf("no case failed")
			}
		})
	}
	for _, c := range conformance.Cases() {
		if !failedSomewhere[c.Name] {
			t.Errorf("case %s failed against no broken server: nothing shows it can fail", c.Name)
		}
	}
}

// `dyormock conformance` against a broken server exits 1 and names a
// failing case.
func TestCommandAgainstBrokenServers(t *testing.T) {
	for _, b := range brokenServers() {
		t.Run(b.name, func(t *testing.T) {
			url := startBroken(t, b)
			var stdout, stderr bytes.Buffer
			code := dyormockcmd.Run(context.Background(), []string{"conformance", "--url", url, "--rate", "0", "--run", only(b.fails).String()}, &stdout, &stderr, func(string) string { return "" })
			if code != 1 {
				t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
			}
			if !strings.Contains(stdout.String(), "FAIL "+b.fails[0]+": want ") {
				t.Errorf("stdout does not name the failing case %s:\n%s", b.fails[0], stdout.String())
			}
		})
	}
}

// A server that echoes what it was sent (the Authorization header, the body
// with its password) in its error messages, and breaks the contract so that
// cases fail and print those messages: the report still holds no token and
// no password.
func TestReportHoldsNoSecrets(t *testing.T) {
	srv := mock.Start(t, mock.WithBcryptCost(4), mock.WithSecret(secret))
	leaky := hooks{after: func(x *exchange) {
		if c := x.code(); c != 0 {
			if c == api.CodeSessionNotFound || c == api.CodeWrongPassword {
				c = api.CodeBadToken
			}
			x.answer(c, "you sent "+x.r.Header.Get("Authorization")+" and "+string(x.reqBody))
		}
	}}
	hs := httptest.NewServer(wrap(srv.Handler(), leaky))
	t.Cleanup(hs.Close)
	rep, err := conformance.Check(context.Background(), conformance.Target{URL: hs.URL, Rate: -1}, conformance.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed < 10 {
		t.Fatalf("only %d cases failed: the leaky server is not exercised", rep.Failed)
	}
	var out bytes.Buffer
	for _, r := range rep.Results {
		out.WriteString(r.Line() + "\n")
	}
	_ = rep.WriteJSON(&out)
	_ = rep.WriteJUnit(&out)
	if !strings.Contains(out.String(), "you sent Bearer [redacted]") {
		t.Errorf("the echoed messages are not in the report at all:\n%.2000s", out.String())
	}
	for _, leak := range []*regexp.Regexp{regexp.MustCompile(`eyJ`), regexp.MustCompile(`pw-[0-9a-f]{8}`)} {
		if loc := leak.FindStringIndex(out.String()); loc != nil {
			t.Errorf("the report holds %s: …%s…", leak, out.String()[max(0, loc[0]-200):min(out.Len(), loc[1]+100)])
		}
	}
	if !strings.Contains(out.String(), `password\":\"[redacted]`) {
		t.Errorf("the echoed passwords are not in the report at all")
	}
}
