package mock_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/dyor-exchange/dyorctl/api"
	"github.com/dyor-exchange/dyorctl/internal/contracttest"
	"github.com/dyor-exchange/dyorctl/mock"
)

// The seed's exact request answers the seed's shape with HS256 JWTs
// carrying the claims of the contract.
func TestSeedLoginRequest(t *testing.T) {
	t.Parallel()
	secret := []byte("a fixed secret for this test")
	s := start(t, mock.WithSecret(secret))
	a := s.do("POST", "/api/v1/account/login", "{\n\"username\": \"john@API\",\n\"password\": \"honeyBunnies\"\n}")
	a.wantOK(t)
	if ct := a.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	p := a.pair(t)
	accounts := s.Accounts()
	if len(accounts) != 1 || accounts[0].Username != "john@API" {
		t.Fatalf("accounts = %+v", accounts)
	}
	sessions := s.Sessions()
	if len(sessions) != 1 {
		t.Fatalf("sessions = %+v", sessions)
	}
	for typ, tok := range map[string]string{"access": p.Access, "refresh": p.Refresh} {
		var c jwt.MapClaims
		parsed, err := jwt.ParseWithClaims(tok, &c, func(*jwt.Token) (any, error) { return secret, nil },
			jwt.WithValidMethods([]string{"HS256"}), jwt.WithIssuer("dyormock"), jwt.WithExpirationRequired(), jwt.WithIssuedAt())
		if err != nil || !parsed.Valid {
			t.Fatalf("%s token does not verify as HS256 with the secret: %v", typ, err)
		}
		if c["typ"] != typ || c["sub"] != accounts[0].ID || c["sid"] != sessions[0].ID || c["jti"] == "" {
			t.Errorf("%s claims = %v", typ, c)
		}
		iat, exp := c["iat"].(float64), c["exp"].(float64)
		want := mock.DefaultAccessTTL
		if typ == "refresh" {
			want = mock.DefaultRefreshTTL
		}
		if time.Duration(exp-iat)*time.Second != want {
			t.Errorf("%s lifetime = %vs, want %v", typ, exp-iat, want)
		}
	}
}

// Every error code of the contract, produced through the real handler.
func TestErrorCodes(t *testing.T) {
	t.Parallel()
	s := start(t, mock.WithLockout(2, time.Minute), mock.WithSeed("john@API", "honeyBunnies"), mock.WithSeed("locky", "password1"))
	p := s.login("john@API", "honeyBunnies")
	other := mock.Start(t, mock.WithBcryptCost(4), mock.WithIssuer("someone-else"))
	foreign, err := other.MintSession("john@API", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	short, err := s.MintSession("john@API", time.Second, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	rotated := s.login("john@API", "honeyBunnies")
	s.refresh(rotated.Refresh).wantOK(t)
	loggedOut := s.login("john@API", "honeyBunnies")
	s.logout(loggedOut.Access).wantOK(t)
	// Lock "locky": the 2nd wrong password answers 401005 and locks.
	s.do("POST", mock.LoginPath, credsJSON("locky", "wrong-password")).wantError(t, 401005)
	s.do("POST", mock.LoginPath, credsJSON("locky", "wrong-password")).wantError(t, 401005)

	long := strings.Repeat("a", 65)
	tests := []struct {
		name               string
		method, path, body string
		headers            []string
		code               api.Code
		messageHas         string
	}{
		{"invalid JSON", "POST", mock.LoginPath, `{"username":`, nil, 400001, "JSON"},
		{"JSON array", "POST", mock.RegisterPath, `["john@API"]`, nil, 400001, "object"},
		{"JSON string", "POST", mock.RegisterPath, `"john"`, nil, 400001, "object"},
		{"JSON null", "POST", mock.RegisterPath, `null`, nil, 400001, "object"},
		{"trailing data", "POST", mock.LoginPath, `{"username":"john@API","password":"honeyBunnies"} {}`, nil, 400001, "JSON"},
		{"duplicate key", "POST", mock.LoginPath, `{"username":"x","username":"john@API","password":"honeyBunnies"}`, nil, 400001, "twice"},
		{"empty body", "POST", mock.LoginPath, ``, nil, 400001, "empty"},
		{"blank body", "POST", mock.LoginPath, "  \n", []string{"Content-Type: application/json"}, 400001, "empty"},
		{"empty body of another type", "POST", mock.RegisterPath, ``, []string{"Content-Type: text/plain"}, 400001, "empty"},
		{"missing username", "POST", mock.LoginPath, `{"password":"honeyBunnies"}`, nil, 400002, "username is required"},
		{"missing password", "POST", mock.RegisterPath, `{"username":"newbie"}`, nil, 400002, "password is required"},
		{"null username", "POST", mock.LoginPath, `{"username":null,"password":"honeyBunnies"}`, nil, 400002, "username is required"},
		{"number username", "POST", mock.LoginPath, `{"username":42,"password":"honeyBunnies"}`, nil, 400002, "username must be a string"},
		{"array password", "POST", mock.LoginPath, `{"username":"john@API","password":["x"]}`, nil, 400002, "password must be a string"},
		{"short username", "POST", mock.RegisterPath, credsJSON("ab", "password1"), nil, 400002, "3 to 64 characters"},
		{"long username", "POST", mock.RegisterPath, credsJSON(long, "password1"), nil, 400002, "3 to 64 characters"},
		{"space in username", "POST", mock.RegisterPath, credsJSON("john doe", "password1"), nil, 400002, "whitespace"},
		{"tab in username", "POST", mock.RegisterPath, credsJSON("john\tdoe", "password1"), nil, 400002, "whitespace"},
		{"control in username", "POST", mock.RegisterPath, credsJSON("john\x01doe", "password1"), nil, 400002, "control"},
		{"short password", "POST", mock.RegisterPath, credsJSON("newbie", "1234567"), nil, 400002, "8 to 72 bytes"},
		{"password over 72 bytes", "POST", mock.RegisterPath, credsJSON("newbie", strings.Repeat("p", 73)), nil, 400002, "8 to 72 bytes"},
		{"password over 72 bytes at login", "POST", mock.LoginPath, credsJSON("john@API", "honeyBunnies"+strings.Repeat("p", 61)), nil, 400002, "8 to 72 bytes"},
		{"no Authorization", "GET", mock.RefreshPath, "", nil, 401001, "Bearer"},
		{"Basic scheme", "GET", mock.RefreshPath, "", []string{"Authorization: Basic am9objpwdw=="}, 401001, "Bearer"},
		{"Bearer without token", "DELETE", mock.LogoutPath, "", []string{"Authorization: Bearer "}, 401001, "Bearer"},
		{"malformed token", "GET", mock.RefreshPath, "", []string{"Authorization: Bearer not-a-jwt"}, 401002, "invalid token"},
		{"bad signature", "GET", mock.RefreshPath, "", []string{"Authorization: Bearer " + tamper(p.Refresh)}, 401002, "invalid token"},
		{"alg none", "GET", mock.RefreshPath, "", []string{"Authorization: Bearer " + algNone(p.Refresh)}, 401002, "invalid token"},
		{"HS512", "DELETE", mock.LogoutPath, "", []string{"Authorization: Bearer " + resign(t, p.Access, "HS512")}, 401002, "invalid token"},
		{"other issuer", "GET", mock.RefreshPath, "", []string{"Authorization: Bearer " + foreign.Refresh}, 401002, "invalid token"},
		{"access token to refresh", "GET", mock.RefreshPath, "", []string{"Authorization: Bearer " + p.Access}, 401002, "type"},
		{"expired refresh token", "GET", mock.RefreshPath, "", []string{"Authorization: Bearer " + short.Refresh}, 401003, "expired"},
		{"rotated refresh token", "GET", mock.RefreshPath, "", []string{"Authorization: Bearer " + rotated.Refresh}, 401004, "session"},
		{"logged-out access token", "DELETE", mock.LogoutPath, "", []string{"Authorization: Bearer " + loggedOut.Access}, 401004, "session"},
		{"wrong password", "POST", mock.LoginPath, credsJSON("john@API", "honeyBunnieZ"), nil, 401005, "wrong password"},
		{"locked account", "POST", mock.LoginPath, credsJSON("locky", "password1"), nil, 403002, "locked"},
		{"unknown route", "GET", "/api/v1/account/whoami", "", nil, 404000, "no such route"},
		{"trailing slash", "POST", mock.LoginPath + "/", credsJSON("john@API", "honeyBunnies"), nil, 404000, "no such route"},
		{"unknown account", "POST", mock.LoginPath, credsJSON("nobody", "password1"), nil, 404001, `"nobody"`},
		{"revoke unknown session", "DELETE", "/_mock/sessions/nope", "", nil, 404002, "session"},
		{"GET login", "GET", mock.LoginPath, "", nil, 405000, "POST"},
		{"POST refresh", "POST", mock.RefreshPath, `{}`, nil, 405000, "GET"},
		{"taken username", "POST", mock.RegisterPath, credsJSON("john@API", "whatever1"), nil, 409001, "already registered"},
		{"body over 64 KiB", "POST", mock.RegisterPath, `{"username":"` + strings.Repeat("x", 70000) + `"}`, nil, 413001, "64 KiB"},
		{"form body", "POST", mock.LoginPath, `username=john`, []string{"Content-Type: application/x-www-form-urlencoded"}, 415001, "application/json"},
		{"text body", "POST", mock.RegisterPath, `{"username":"a"}`, []string{"Content-Type: text/plain"}, 415001, "application/json"},
	}
	// The expired token needs the clock past its exp; nothing else here
	// expires within a minute.
	if err := s.Advance(3 * time.Second); err != nil {
		t.Fatal(err)
	}
	// The sweep has now removed the short session: 401003 must still come
	// first, from the token's own exp.
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := s.do(tt.method, tt.path, tt.body, tt.headers...)
			a.wantError(t, tt.code)
			if !strings.Contains(a.env.Error.Message, tt.messageHas) {
				t.Errorf("message %q does not mention %q", a.env.Error.Message, tt.messageHas)
			}
			if tt.code == 405000 && a.header.Get("Allow") == "" {
				t.Error("405 without an Allow header")
			}
		})
	}
}

// 500000 is the one code no client input can cause: a fault rule with
// status 500 is the only way to see it.
func TestInternalErrorOnlyByFault(t *testing.T) {
	t.Parallel()
	s := start(t)
	if err := s.AddFault(mock.Fault{Route: "login", Status: 500, Times: 1}); err != nil {
		t.Fatal(err)
	}
	s.do("POST", mock.LoginPath, credsJSON("john@API", "honeyBunnies")).wantError(t, 500000)
	s.do("POST", mock.LoginPath, credsJSON("john@API", "honeyBunnies")).wantOK(t)
}

func TestInputRulesAccepted(t *testing.T) {
	t.Parallel()
	s := start(t, mock.WithNoSeed())
	for _, c := range []struct{ user, pass string }{
		{"abc", "12345678"},
		{strings.Repeat("é", 64), strings.Repeat("p", 72)},
		{"john@API", "honey Bunnies with spaces"},
		{"日本語", "пароль-пароль"},
	} {
		s.do("POST", mock.RegisterPath, credsJSON(c.user, c.pass)).wantOK(t)
		s.login(c.user, c.pass)
	}
	// charset parameter and an upper-case media type are fine.
	s.do("POST", mock.RegisterPath, credsJSON("charset", "password1"), "Content-Type: application/json; charset=utf-8").wantOK(t)
	s.do("POST", mock.LoginPath, credsJSON("charset", "password1"), "Content-Type: Application/JSON").wantOK(t)
	// The password is checked in full: 72 bytes that differ in the last byte.
	s.do("POST", mock.LoginPath, credsJSON(strings.Repeat("é", 64), strings.Repeat("p", 71)+"q")).wantError(t, 401005)
}

func TestRegisterStoresNoPassword(t *testing.T) {
	t.Parallel()
	s := start(t, mock.WithNoSeed())
	s.do("POST", mock.RegisterPath, credsJSON("alice", "correct horse")).wantOK(t)
	s.do("POST", mock.RegisterPath, credsJSON("alice", "correct horse")).wantError(t, 409001)
	s.login("alice", "correct horse")
	b, _ := json.Marshal(s.Accounts())
	if strings.Contains(string(b), "correct horse") || strings.Contains(string(b), "$2a$") {
		t.Fatalf("account listing shows a password or hash: %s", b)
	}
	if !strings.Contains(string(b), `"locked_until":null`) {
		t.Errorf("account listing without locked_until null: %s", b)
	}
}

func TestBearerSchemeIsCaseInsensitive(t *testing.T) {
	t.Parallel()
	s := start(t)
	p := s.login("john@API", "honeyBunnies")
	a := s.do("GET", mock.RefreshPath, "", "Authorization: bEaReR "+p.Refresh)
	a.wantOK(t)
	s.do("DELETE", mock.LogoutPath, "", "Authorization: BEARER "+a.pair(t).Access).wantOK(t)
}

func TestRefreshRotates(t *testing.T) {
	t.Parallel()
	s := start(t)
	p := s.login("john@API", "honeyBunnies")
	a := s.refresh(p.Refresh)
	a.wantOK(t)
	next := a.pair(t)
	if claimsOf(t, next.Access)["sid"] == claimsOf(t, p.Access)["sid"] {
		t.Fatal("refresh kept the session id")
	}
	// The old session is gone: its access token stops working at once.
	s.logout(p.Access).wantError(t, 401004)
	// The new pair works.
	again := s.refresh(next.Refresh)
	again.wantOK(t)
	s.logout(again.pair(t).Refresh).wantOK(t)
	if n := len(s.Sessions()); n != 0 {
		t.Fatalf("%d live sessions after logout", n)
	}
}

// Presenting a rotated refresh token revokes every live session descended
// from it (RFC 9700 §4.14.2), and leaves other sessions alone.
func TestRefreshReuseRevokesDescendants(t *testing.T) {
	t.Parallel()
	s := start(t)
	bystander := s.login("john@API", "honeyBunnies")
	p0 := s.login("john@API", "honeyBunnies")
	r1 := s.refresh(p0.Refresh)
	r1.wantOK(t)
	p1 := r1.pair(t)
	r2 := s.refresh(p1.Refresh)
	r2.wantOK(t)
	p2 := r2.pair(t)

	// An attacker replays p0's refresh token.
	s.refresh(p0.Refresh).wantError(t, 401004)
	// The legitimate holder of p2 is logged out with it.
	s.logout(p2.Access).wantError(t, 401004)
	s.refresh(p2.Refresh).wantError(t, 401004)
	// Another session of the same account is not touched.
	s.logout(bystander.Access).wantOK(t)
	if n := len(s.Sessions()); n != 0 {
		t.Fatalf("%d live sessions left", n)
	}
}

func TestLogoutEndsEveryTokenOfTheSession(t *testing.T) {
	t.Parallel()
	for _, with := range []string{"access", "refresh"} {
		t.Run(with, func(t *testing.T) {
			t.Parallel()
			s := start(t)
			p := s.login("john@API", "honeyBunnies")
			other := s.login("john@API", "honeyBunnies")
			tok := p.Access
			if with == "refresh" {
				tok = p.Refresh
			}
			s.logout(tok).wantOK(t)
			s.logout(p.Access).wantError(t, 401004)
			s.refresh(p.Refresh).wantError(t, 401004)
			s.refresh(other.Refresh).wantOK(t)
		})
	}
}

func TestLockout(t *testing.T) {
	t.Parallel()
	s := start(t, mock.WithLockout(3, 10*time.Minute))
	wrong := credsJSON("john@API", "not-the-password")
	right := credsJSON("john@API", "honeyBunnies")
	// A correct login resets the count.
	s.do("POST", mock.LoginPath, wrong).wantError(t, 401005)
	s.do("POST", mock.LoginPath, wrong).wantError(t, 401005)
	s.do("POST", mock.LoginPath, right).wantOK(t)
	s.do("POST", mock.LoginPath, wrong).wantError(t, 401005)
	s.do("POST", mock.LoginPath, wrong).wantError(t, 401005)
	// The third in a row locks.
	a := s.do("POST", mock.LoginPath, wrong)
	a.wantError(t, 401005)
	if !strings.Contains(a.env.Error.Message, "locked") {
		t.Errorf("the locking answer does not say so: %q", a.env.Error.Message)
	}
	s.do("POST", mock.LoginPath, right).wantError(t, 403002)
	if acc := s.Accounts()[0]; acc.LockedUntil == nil || !acc.LockedUntil.Equal(s.Now().Add(10*time.Minute).Truncate(time.Nanosecond)) && acc.LockedUntil.Before(s.Now()) {
		t.Errorf("locked_until = %v", acc.LockedUntil)
	}
	if err := s.Advance(9 * time.Minute); err != nil {
		t.Fatal(err)
	}
	s.do("POST", mock.LoginPath, right).wantError(t, 403002)
	if err := s.Advance(time.Minute); err != nil {
		t.Fatal(err)
	}
	s.do("POST", mock.LoginPath, right).wantOK(t)
	if acc := s.Accounts()[0]; acc.LockedUntil != nil {
		t.Errorf("still listed as locked until %v", acc.LockedUntil)
	}
}

func TestLockoutOff(t *testing.T) {
	t.Parallel()
	s := start(t, mock.WithLockout(0, 0))
	for range 8 {
		s.do("POST", mock.LoginPath, credsJSON("john@API", "not-the-password")).wantError(t, 401005)
	}
	s.login("john@API", "honeyBunnies")
}

func TestAccessExpiresRefreshStillWorks(t *testing.T) {
	t.Parallel()
	s := start(t)
	p := s.login("john@API", "honeyBunnies")
	if err := s.Advance(mock.DefaultAccessTTL + time.Second); err != nil {
		t.Fatal(err)
	}
	s.logout(p.Access).wantError(t, 401003)
	a := s.refresh(p.Refresh)
	a.wantOK(t)
	s.logout(a.pair(t).Access).wantOK(t)
}

func TestSweepRemovesExpiredSessionsAndTombstones(t *testing.T) {
	t.Parallel()
	s := start(t, mock.WithRefreshTTL(time.Hour))
	p := s.login("john@API", "honeyBunnies")
	s.refresh(p.Refresh).wantOK(t) // leaves a tombstone
	s.login("john@API", "honeyBunnies")
	if n := len(s.Sessions()); n != 2 {
		t.Fatalf("%d live sessions, want 2", n)
	}
	if n := s.Sweep(); n != 0 {
		t.Fatalf("sweep removed %d before anything expired", n)
	}
	if err := s.Advance(time.Hour); err != nil {
		t.Fatal(err)
	}
	// Advance sweeps: the two live sessions and the tombstone are gone.
	if n := len(s.Sessions()); n != 0 {
		t.Fatalf("%d live sessions after expiry", n)
	}
	if n := s.Sweep(); n != 0 {
		t.Fatalf("a second sweep found %d more: Advance did not sweep", n)
	}
}

func TestNoRouteAndHealth(t *testing.T) {
	t.Parallel()
	s := start(t)
	s.do("GET", "/", "").wantError(t, 404000)
	s.do("GET", "/healthz", "").wantOK(t)
	s.do("POST", "/healthz", "{}").wantError(t, 405000)
}

func TestAdminOff(t *testing.T) {
	t.Parallel()
	s := start(t, mock.WithAdmin(false))
	s.do("GET", "/_mock/accounts", "").wantError(t, 404000)
	s.do("POST", "/_mock/reset", "{}").wantError(t, 404000)
	s.login("john@API", "honeyBunnies")
}

// tamper flips the last character of the signature.
func tamper(tok string) string {
	last := tok[len(tok)-2]
	c := byte('A')
	if last == 'A' {
		c = 'B'
	}
	return tok[:len(tok)-2] + string(c) + tok[len(tok)-1:]
}

// algNone rewrites a token as alg "none" with no signature.
func algNone(tok string) string {
	parts := strings.Split(tok, ".")
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	return h + "." + parts[1] + "."
}

// resign re-signs tok's claims with alg (an HMAC) and a key the server
// does not have.
func resign(t *testing.T, tok, alg string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"` + alg + `","typ":"JWT"}`))
	mac := hmac.New(sha256.New, []byte("guess"))
	mac.Write([]byte(h + "." + parts[1]))
	return h + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// The mock gives every row of the shared input-rules table its verdict,
// on register and on login alike.
func TestInputRulesTable(t *testing.T) {
	t.Parallel()
	s := start(t)
	usernames, passwords := contracttest.InputRules()
	check := func(what string, valid bool, body string) {
		t.Helper()
		for _, path := range []string{mock.RegisterPath, mock.LoginPath} {
			a := s.do("POST", path, body)
			if got := a.status != 400; got != valid || !valid && a.env.Error.Code != mock.CodeInvalidField {
				t.Errorf("POST %s with %s: %d %s, want valid=%v", path, what, a.status, a.raw, valid)
			}
		}
	}
	for _, tc := range usernames {
		check(fmt.Sprintf("username %+q", tc.Value), tc.Valid, credsJSON(tc.Value, "honeyBunnies"))
	}
	for i, tc := range passwords {
		check(fmt.Sprintf("a password of %d bytes", len(tc.Value)), tc.Valid, credsJSON(fmt.Sprintf("pw-user-%d", i), tc.Value))
	}
}
