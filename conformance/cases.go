package conformance

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/dyor-exchange/dyorctl/api"
	"github.com/dyor-exchange/dyorctl/internal/contractcheck"
)

// suite is every case, in the order they run. Each case registers the
// accounts it needs, so that any selection of them runs alone.
var suite = slices.Concat(
	accountCases,
	inputCases(),
	bodyCases,
	authCases,
	tokenCases,
	rotationCases,
	logoutCases,
	lockoutCases,
	routeCases(),
	timeCases,
)

var accountCases = []kase{
	{name: "health", checks: "GET /healthz answers 200 with the success envelope (skipped when a target without the control plane has no /healthz)",
		run: func(c *cx) {
			a := c.do(request{method: http.MethodGet, path: api.HealthPath})
			if a.status == http.StatusNotFound && !c.r.control {
				c.problems = nil
				c.skipf("the target has no %s (dyormock's health check; the published API does not list it)", api.HealthPath)
			}
			c.wantOK(a)
		}},
	{name: "register/ok", checks: "register answers 200 with the result {}",
		run: func(c *cx) {
			res := c.wantOK(c.register(c.name("reg"), c.newPassword()))
			if !emptyObject(res) {
				c.failf("register: want the result {}, got %s", res)
			}
		}},
	{name: "register/taken", checks: fmt.Sprintf("registering a username again answers %d and leaves the first password in force", api.CodeUsernameTaken),
		run: func(c *cx) {
			acc := c.account("taken")
			other := c.newPassword()
			c.wantError(c.register(acc.username, other), api.CodeUsernameTaken)
			c.wantError(c.loginAs(acc.username, other), api.CodeWrongPassword)
			c.login(acc)
		}},
	{name: "login/ok", checks: "login answers 200 with a pair of JWTs, access and refresh, that differ",
		run: func(c *cx) {
			p := c.login(c.account("login"))
			if p.Access == p.Refresh {
				c.failf("login: want two different tokens, got the same token twice")
			}
		}},
	{name: "login/unknown-account", checks: fmt.Sprintf("login to a username nobody registered answers %d", api.CodeAccountNotFound),
		run: func(c *cx) {
			c.wantError(c.loginAs(c.name("nobody"), c.newPassword()), api.CodeAccountNotFound)
		}},
	{name: "login/wrong-password", checks: fmt.Sprintf("a wrong password answers %d, the password's case counting", api.CodeWrongPassword),
		run: func(c *cx) {
			acc := c.account("wrongpw")
			c.wantError(c.loginAs(acc.username, strings.ToUpper(acc.password)), api.CodeWrongPassword)
			c.login(acc)
		}},
	{name: "login/sessions-are-separate", checks: "two logins of one account give two sessions (two sid, one sub); another account has another sub",
		run: func(c *cx) {
			acc := c.account("twice")
			p1, p2 := c.login(acc), c.login(acc)
			q := c.login(c.account("third"))
			sid1, sid2 := claimString(p1.Access, api.ClaimSessionID), claimString(p2.Access, api.ClaimSessionID)
			if sid1 == "" || sid1 == sid2 {
				c.failf("login twice: want two different sid claims, got %q and %q", sid1, sid2)
			}
			sub1, sub2, sub3 := claimString(p1.Access, api.ClaimSubject), claimString(p2.Access, api.ClaimSubject), claimString(q.Access, api.ClaimSubject)
			if sub1 == "" || sub1 != sub2 {
				c.failf("login twice: want one sub claim for one account, got %q and %q", sub1, sub2)
			}
			if sub3 == sub1 {
				c.failf("login: want another sub for another account, got the same %q", sub1)
			}
		}},
}

// An input rule case: a body that breaks one rule, sent to register and to
// login (or to login only, where a server that broke the rule on register
// would create an account without the run's prefix).
type inputCase struct {
	name, checks string
	loginOnly    bool
	body         func(c *cx) []byte
}

// fill returns prefix followed by copies of r up to n code points.
func fill(prefix string, r rune, n int) string {
	k := n - len([]rune(prefix))
	if k < 0 {
		k = 0
	}
	return prefix + strings.Repeat(string(r), k)
}

// inputCaseTable is the input rules' cases: one body each.
func inputCaseTable() []inputCase {
	creds := func(username func(c *cx) string) func(c *cx) []byte {
		return func(c *cx) []byte { return credentialsBody(username(c), c.newPassword()) }
	}
	withPassword := func(password string) func(c *cx) []byte {
		return func(c *cx) []byte { c.r.secret(password); return credentialsBody(c.name("pw"), password) }
	}
	raw := func(format string) func(c *cx) []byte {
		return func(c *cx) []byte { return fmt.Appendf(nil, format, c.name("raw"), c.newPassword()) }
	}
	return []inputCase{
		{name: "username/too-short", loginOnly: true,
			checks: fmt.Sprintf("a username of %d code points answers %d", api.MinUsernameRunes-1, api.CodeInvalidField),
			body:   creds(func(*cx) string { return strings.Repeat("\u01c2", api.MinUsernameRunes-1) })},
		{name: "username/too-long",
			checks: fmt.Sprintf("a username of %d code points (of 2 bytes each) answers %d", api.MaxUsernameRunes+1, api.CodeInvalidField),
			body:   creds(func(c *cx) string { return fill(c.name("long"), 'é', api.MaxUsernameRunes+1) })},
		{name: "username/space", checks: fmt.Sprintf("a username holding a space answers %d", api.CodeInvalidField),
			body: creds(func(c *cx) string { return c.name("a b") })},
		{name: "username/unicode-space", checks: fmt.Sprintf("a username holding U+00A0 (a Z* space) answers %d", api.CodeInvalidField),
			body: creds(func(c *cx) string { return c.name("a\u00a0b") })},
		{name: "username/control", checks: fmt.Sprintf("a username holding a control character (U+0007) answers %d", api.CodeInvalidField),
			body: creds(func(c *cx) string { return c.name("a\u0007b") })},
		{name: "username/format", checks: fmt.Sprintf("a username holding a format character (U+200B, zero-width space) answers %d", api.CodeInvalidField),
			body: creds(func(c *cx) string { return c.name("a\u200bb") })},
		{name: "username/bidi-override", checks: fmt.Sprintf("a username holding U+202E (right-to-left override) answers %d", api.CodeInvalidField),
			body: creds(func(c *cx) string { return c.name("a\u202eb") })},
		{name: "username/replacement-character", checks: fmt.Sprintf("a username holding U+FFFD answers %d", api.CodeInvalidField),
			body: creds(func(c *cx) string { return c.name("a\ufffdb") })},
		{name: "username/invalid-utf8", checks: fmt.Sprintf("a username holding a byte that is not UTF-8 (0xFF) answers %d", api.CodeInvalidField),
			body: raw("{\"username\":\"%s\xff\",\"password\":\"%s\"}")},
		{name: "username/not-a-string", checks: fmt.Sprintf("a username that is a number answers %d", api.CodeInvalidField),
			body: func(c *cx) []byte { return fmt.Appendf(nil, `{"username":12345,"password":%q}`, c.newPassword()) }},
		{name: "username/null", checks: fmt.Sprintf("a username that is null answers %d", api.CodeInvalidField),
			body: func(c *cx) []byte { return fmt.Appendf(nil, `{"username":null,"password":%q}`, c.newPassword()) }},
		{name: "username/missing", checks: fmt.Sprintf("a body without a username answers %d", api.CodeInvalidField),
			body: func(c *cx) []byte { return fmt.Appendf(nil, `{"password":%q}`, c.newPassword()) }},
		{name: "password/too-short", checks: fmt.Sprintf("a password of %d bytes answers %d", api.MinPasswordBytes-1, api.CodeInvalidField),
			body: withPassword(strings.Repeat("s", api.MinPasswordBytes-1))},
		{name: "password/too-long", checks: fmt.Sprintf("a password of %d bytes answers %d (never truncated)", api.MaxPasswordBytes+1, api.CodeInvalidField),
			body: withPassword(strings.Repeat("L", api.MaxPasswordBytes+1))},
		{name: "password/counted-in-bytes", checks: fmt.Sprintf("a password of 25 three-byte characters (75 bytes) answers %d: the limit is in bytes", api.CodeInvalidField),
			body: withPassword(strings.Repeat("€", 25))},
		{name: "password/not-a-string", checks: fmt.Sprintf("a password that is a number answers %d", api.CodeInvalidField),
			body: func(c *cx) []byte { return fmt.Appendf(nil, `{"username":%q,"password":12345678}`, c.name("num")) }},
		{name: "password/missing", checks: fmt.Sprintf("a body without a password answers %d", api.CodeInvalidField),
			body: func(c *cx) []byte { return fmt.Appendf(nil, `{"username":%q}`, c.name("nopw")) }},
	}
}

func inputCases() []kase {
	var out []kase
	for _, ic := range inputCaseTable() {
		out = append(out, kase{name: "input/" + ic.name, checks: ic.checks + (map[bool]string{true: " on login", false: " on register and login"})[ic.loginOnly],
			run: func(c *cx) {
				for _, rt := range api.Routes {
					if !rt.Body || (ic.loginOnly && rt.Path != api.LoginPath) {
						continue
					}
					c.wantError(c.do(request{method: rt.Method, path: rt.Path, body: ic.body(c)}), api.CodeInvalidField)
				}
			}})
	}
	out = append(out, kase{name: "input/at-the-limits",
		checks: fmt.Sprintf("a username of exactly %d code points and passwords of exactly %d and %d bytes are accepted", api.MaxUsernameRunes, api.MinPasswordBytes, api.MaxPasswordBytes),
		run: func(c *cx) {
			long := account{fill(c.name("max"), 'é', api.MaxUsernameRunes), fill(c.newPassword(), 'p', api.MaxPasswordBytes)}
			short := account{c.name("min"), c.newPassword()[:api.MinPasswordBytes]}
			for _, acc := range []account{long, short} {
				c.r.secret(acc.password)
				c.wantOK(c.register(acc.username, acc.password))
				c.login(acc)
			}
		}})
	return out
}

var bodyCases = []kase{
	{name: "body/empty", checks: fmt.Sprintf("an empty body answers %d whatever its Content-Type (application/json, text/plain, none)", api.CodeInvalidJSON),
		run: func(c *cx) {
			for _, rt := range []string{api.RegisterPath, api.LoginPath} {
				for _, ct := range []string{"application/json", "text/plain", "-"} {
					c.wantError(c.do(request{method: http.MethodPost, path: rt, hasBody: true, body: []byte{}, contentType: ct}), api.CodeInvalidJSON)
				}
			}
		}},
	{name: "body/not-json", checks: fmt.Sprintf("a body that is not JSON answers %d", api.CodeInvalidJSON),
		run: func(c *cx) {
			for _, rt := range []string{api.RegisterPath, api.LoginPath} {
				c.wantError(c.do(request{method: http.MethodPost, path: rt, body: []byte(`{"username":`)}), api.CodeInvalidJSON)
			}
		}},
	{name: "body/not-an-object", checks: fmt.Sprintf("a JSON body that is an array or a string answers %d", api.CodeInvalidJSON),
		run: func(c *cx) {
			for _, body := range []string{`["a","b"]`, `"username"`} {
				c.wantError(c.do(request{method: http.MethodPost, path: api.LoginPath, body: []byte(body)}), api.CodeInvalidJSON)
			}
		}},
	{name: "body/data-after-the-object", checks: fmt.Sprintf("an object followed by more JSON is not one JSON text: %d", api.CodeInvalidJSON),
		run: func(c *cx) {
			body := append(credentialsBody(c.name("trail"), c.newPassword()), "{}"...)
			c.wantError(c.do(request{method: http.MethodPost, path: api.RegisterPath, body: body}), api.CodeInvalidJSON)
		}},
	{name: "body/wrong-content-type", checks: fmt.Sprintf("valid credentials sent as text/plain or as a form answer %d", api.CodeUnsupportedType),
		run: func(c *cx) {
			for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded"} {
				body := credentialsBody(c.name("ctype"), c.newPassword())
				c.wantError(c.do(request{method: http.MethodPost, path: api.RegisterPath, body: body, contentType: ct}), api.CodeUnsupportedType)
			}
		}},
	{name: "body/charset-accepted", checks: "Content-Type application/json; charset=utf-8 is accepted",
		run: func(c *cx) {
			acc := account{c.name("charset"), c.newPassword()}
			c.wantOK(c.do(request{method: http.MethodPost, path: api.RegisterPath, body: credentialsBody(acc.username, acc.password), contentType: "application/json; charset=utf-8"}))
			c.r.mu.Lock()
			c.r.accounts++
			c.r.mu.Unlock()
			c.wantTokens(c.do(request{method: http.MethodPost, path: api.LoginPath, body: credentialsBody(acc.username, acc.password), contentType: "application/json; charset=utf-8"}))
		}},
	{name: "body/too-large", checks: fmt.Sprintf("a body of more than 64 KiB answers %d", api.CodeBodyTooLarge),
		run: func(c *cx) {
			pad := strings.Repeat("x", api.MaxBodyBytes)
			body := fmt.Appendf(nil, `{"username":%q,"password":%q,"pad":%q}`, c.name("big"), c.newPassword(), pad)
			for _, rt := range []string{api.RegisterPath, api.LoginPath} {
				c.wantError(c.do(request{method: http.MethodPost, path: rt, body: body}), api.CodeBodyTooLarge)
			}
		}},
}

// route is the route of the contract called name.
func route(name string) api.Route {
	rt, ok := api.RouteByName(name)
	if !ok {
		panic("conformance: no route " + name)
	}
	return rt
}

// emptyObject reports whether b is the JSON object {}.
func emptyObject(b []byte) bool {
	var m map[string]any
	return json.Unmarshal(b, &m) == nil && m != nil && len(m) == 0
}

// tokenRoutes are the routes that take a token.
func tokenRoutes() []api.Route {
	var out []api.Route
	for _, rt := range api.Routes {
		if rt.Auth != api.AuthNone {
			out = append(out, rt)
		}
	}
	return out
}

// withAuth sends rt with the Authorization header value auth.
func (c *cx) withAuth(rt api.Route, auth string) *answer {
	return c.do(request{method: rt.Method, path: rt.Path, auth: auth})
}

// tamper returns tok with its claims changed (sub made another) and its
// signature kept: a token with a bad signature.
func tamper(c *cx, tok string) string {
	parts := strings.Split(tok, ".")
	_, claims, err := decodeJWT(tok)
	if err != nil {
		c.failf("want a JWT, got a token that is not: %v", err)
	}
	claims[api.ClaimSubject] = "conformance-forged"
	b, _ := json.Marshal(claims)
	forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString(b) + "." + parts[2]
	c.r.secret(forged)
	return forged
}

// algNone returns tok's claims as an unsigned token ("alg": "none").
func algNone(c *cx, tok string) string {
	parts := strings.Split(tok, ".")
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	forged := h + "." + parts[1] + "."
	c.r.secret(forged)
	return forged
}

var authCases = []kase{
	{name: "auth/missing", checks: fmt.Sprintf("refresh and logout without an Authorization header answer %d", api.CodeNoToken),
		run: func(c *cx) {
			for _, rt := range tokenRoutes() {
				c.wantError(c.withAuth(rt, ""), api.CodeNoToken)
			}
		}},
	{name: "auth/not-bearer", checks: fmt.Sprintf("an Authorization header of another scheme (Basic), or Bearer without a token, answers %d", api.CodeNoToken),
		run: func(c *cx) {
			p := c.login(c.account("basic"))
			for _, rt := range tokenRoutes() {
				c.wantError(c.withAuth(rt, "Basic Y29uZjpjb25m"), api.CodeNoToken)
				c.wantError(c.withAuth(rt, "Bearer"), api.CodeNoToken)
				c.wantError(c.withAuth(rt, p.Refresh), api.CodeNoToken) // the token without the scheme
			}
		}},
	{name: "auth/scheme-case-insensitive", checks: "the scheme word is case-insensitive: bearer, BEARER and bEaReR work",
		run: func(c *cx) {
			p := c.login(c.account("case"))
			refresh := func(auth string) api.TokenPair {
				return c.wantTokens(c.withAuth(route("refresh"), auth))
			}
			p = refresh("bearer " + p.Refresh)
			p = refresh("BEARER " + p.Refresh)
			c.wantOK(c.withAuth(route("logout"), "bEaReR "+p.Access))
		}},
	{name: "auth/malformed-token", checks: fmt.Sprintf("a token that is not a JWT answers %d", api.CodeBadToken),
		run: func(c *cx) {
			for _, rt := range tokenRoutes() {
				c.wantError(c.withAuth(rt, "Bearer not-a-jwt"), api.CodeBadToken)
				c.wantError(c.withAuth(rt, "Bearer e30.e30.e30"), api.CodeBadToken)
			}
		}},
	{name: "auth/bad-signature", checks: fmt.Sprintf("a token whose claims were changed after signing answers %d, and the session stays live", api.CodeBadToken),
		run: func(c *cx) {
			p := c.login(c.account("sig"))
			c.wantError(c.refresh(tamper(c, p.Refresh)), api.CodeBadToken)
			c.wantError(c.logout(tamper(c, p.Access)), api.CodeBadToken)
			c.wantTokens(c.refresh(p.Refresh))
		}},
	{name: "auth/alg-none", checks: fmt.Sprintf("an unsigned token (alg none) with real claims answers %d", api.CodeBadToken),
		run: func(c *cx) {
			p := c.login(c.account("none"))
			c.wantError(c.refresh(algNone(c, p.Refresh)), api.CodeBadToken)
			c.wantError(c.logout(algNone(c, p.Access)), api.CodeBadToken)
		}},
	{name: "typ/access-on-refresh", checks: fmt.Sprintf("an access token on refresh answers %d and leaves the session live", api.CodeBadToken),
		run: func(c *cx) {
			p := c.login(c.account("typ"))
			c.wantError(c.refresh(p.Access), api.CodeBadToken)
			c.wantTokens(c.refresh(p.Refresh))
		}},
}

// claimNames are the claims every token carries.
var claimNames = []string{api.ClaimIssuer, api.ClaimSubject, api.ClaimSessionID, api.ClaimType, api.ClaimIssuedAt, api.ClaimExpiresAt, api.ClaimID}

// checkClaims fails unless tok is an HS256 JWT with every claim, of typ
// want, and returns the claims.
func checkClaims(c *cx, what, tok, want string) map[string]any {
	header, claims, err := decodeJWT(tok)
	if err != nil {
		c.failf("%s: want a JWT, got a token that is not: %v", what, err)
	}
	if header["alg"] != "HS256" {
		c.failf("%s: want alg HS256, got %v", what, header["alg"])
	}
	for _, name := range claimNames {
		v, ok := claims[name]
		if !ok {
			c.failf("%s token of %s: want the claim %q, got claims without it", want, what, name)
		}
		switch name {
		case api.ClaimIssuedAt, api.ClaimExpiresAt:
			if _, ok := v.(json.Number); !ok {
				c.failf("%s token of %s: want %q a number, got %T", want, what, name, v)
			}
		default:
			if s, ok := v.(string); !ok || s == "" {
				c.failf("%s token of %s: want %q a non-empty string, got %v", want, what, name, v)
			}
		}
	}
	if claims[api.ClaimType] != want {
		c.failf("%s token of %s: want typ %q, got %v", want, what, want, claims[api.ClaimType])
	}
	iat, _ := claimTime(tok, api.ClaimIssuedAt)
	exp, _ := claimTime(tok, api.ClaimExpiresAt)
	if !exp.After(iat) {
		c.failf("%s token of %s: want exp after iat, got iat %d exp %d", want, what, iat.Unix(), exp.Unix())
	}
	return claims
}

// checkPair checks the claims of a token pair and returns them.
func checkPair(c *cx, what string, p api.TokenPair) (access, refresh map[string]any) {
	access = checkClaims(c, what, p.Access, api.TypeAccess)
	refresh = checkClaims(c, what, p.Refresh, api.TypeRefresh)
	for _, name := range []string{api.ClaimIssuer, api.ClaimSubject, api.ClaimSessionID} {
		if access[name] != refresh[name] {
			c.failf("%s: want one %q for the access and the refresh token, got %v and %v", what, name, access[name], refresh[name])
		}
	}
	if access[api.ClaimID] == refresh[api.ClaimID] {
		c.failf("%s: want two different jti, got %v twice", what, access[api.ClaimID])
	}
	aexp, _ := claimTime(p.Access, api.ClaimExpiresAt)
	rexp, _ := claimTime(p.Refresh, api.ClaimExpiresAt)
	if rexp.Before(aexp) {
		c.failf("%s: want the refresh token to outlive the access token, got exp %d < %d", what, rexp.Unix(), aexp.Unix())
	}
	return access, refresh
}

var tokenCases = []kase{
	{name: "token/claims", checks: "login's tokens are HS256 JWTs with iss, sub, sid, typ (access, refresh), iat, exp > iat and jti; one iss, sub and sid, two jti",
		run: func(c *cx) {
			checkPair(c, "login", c.login(c.account("claims")))
		}},
	{name: "token/claims-after-refresh", checks: "refresh's tokens keep iss and sub, and carry a new sid and new jti",
		run: func(c *cx) {
			p := c.login(c.account("claims2"))
			a1, r1 := checkPair(c, "login", p)
			a2, r2 := checkPair(c, "refresh", c.wantTokens(c.refresh(p.Refresh)))
			for _, name := range []string{api.ClaimIssuer, api.ClaimSubject} {
				if a1[name] != a2[name] {
					c.failf("refresh: want the %q of login, %v, got %v", name, a1[name], a2[name])
				}
			}
			if a1[api.ClaimSessionID] == a2[api.ClaimSessionID] {
				c.failf("refresh: want a new sid (the session rotates), got the old one")
			}
			if r1[api.ClaimID] == r2[api.ClaimID] || a1[api.ClaimID] == a2[api.ClaimID] {
				c.failf("refresh: want new jti, got one of login's again")
			}
		}},
}

var rotationCases = []kase{
	{name: "rotation/refresh", checks: "refresh answers a new pair, and the new refresh token refreshes again",
		run: func(c *cx) {
			p1 := c.login(c.account("rot"))
			p2 := c.wantTokens(c.refresh(p1.Refresh))
			if p2.Refresh == p1.Refresh || p2.Access == p1.Access {
				c.failf("refresh: want new tokens, got an old one again")
			}
			c.wantTokens(c.refresh(p2.Refresh))
		}},
	{name: "rotation/old-access-refused", checks: fmt.Sprintf("after a refresh, the access token of the rotated session answers %d", api.CodeSessionNotFound),
		run: func(c *cx) {
			p1 := c.login(c.account("oldacc"))
			c.wantTokens(c.refresh(p1.Refresh))
			c.wantError(c.logout(p1.Access), api.CodeSessionNotFound)
		}},
	{name: "rotation/reuse-detected", checks: fmt.Sprintf("the rotated refresh token answers %d, and its successor then answers %d too (the chain is revoked)", api.CodeSessionNotFound, api.CodeSessionNotFound),
		run: func(c *cx) {
			p1 := c.login(c.account("reuse"))
			p2 := c.wantTokens(c.refresh(p1.Refresh))
			c.wantError(c.refresh(p1.Refresh), api.CodeSessionNotFound)
			c.wantError(c.refresh(p2.Refresh), api.CodeSessionNotFound)
			c.wantError(c.logout(p2.Access), api.CodeSessionNotFound)
		}},
	{name: "rotation/reuse-revokes-descendants", checks: "reusing the first refresh token of a chain of three revokes the newest session",
		run: func(c *cx) {
			p1 := c.login(c.account("chain"))
			p2 := c.wantTokens(c.refresh(p1.Refresh))
			p3 := c.wantTokens(c.refresh(p2.Refresh))
			c.wantError(c.refresh(p1.Refresh), api.CodeSessionNotFound)
			c.wantError(c.logout(p3.Access), api.CodeSessionNotFound)
			c.wantError(c.refresh(p3.Refresh), api.CodeSessionNotFound)
		}},
	{name: "rotation/reuse-spares-other-sessions", checks: "reuse in one session's chain leaves another session of the same account live",
		run: func(c *cx) {
			acc := c.account("spare")
			p1, other := c.login(acc), c.login(acc)
			c.wantTokens(c.refresh(p1.Refresh))
			c.wantError(c.refresh(p1.Refresh), api.CodeSessionNotFound)
			c.wantTokens(c.refresh(other.Refresh))
		}},
}

var logoutCases = []kase{
	{name: "logout/access-token", checks: fmt.Sprintf("logout with the access token answers {} and ends both tokens of the session (%d)", api.CodeSessionNotFound),
		run: func(c *cx) {
			p := c.login(c.account("out"))
			if res := c.wantOK(c.logout(p.Access)); !emptyObject(res) {
				c.failf("logout: want the result {}, got %s", res)
			}
			c.wantError(c.refresh(p.Refresh), api.CodeSessionNotFound)
			c.wantError(c.logout(p.Access), api.CodeSessionNotFound)
		}},
	{name: "logout/refresh-token", checks: fmt.Sprintf("logout takes the refresh token too, and then both tokens answer %d", api.CodeSessionNotFound),
		run: func(c *cx) {
			p := c.login(c.account("outr"))
			c.wantOK(c.logout(p.Refresh))
			c.wantError(c.logout(p.Access), api.CodeSessionNotFound)
			c.wantError(c.refresh(p.Refresh), api.CodeSessionNotFound)
		}},
	{name: "logout/only-its-session", checks: "logout ends its own session only: another session of the account still refreshes",
		run: func(c *cx) {
			acc := c.account("outone")
			p1, p2 := c.login(acc), c.login(acc)
			c.wantOK(c.logout(p1.Access))
			c.wantTokens(c.refresh(p2.Refresh))
		}},
	{name: "envelope/errors", checks: "error answers are {\"ok\":false,\"error\":{code,message}} with a message, at status code / 1000, as JSON",
		run: func(c *cx) {
			answers := []*answer{
				c.do(request{method: http.MethodPost, path: api.LoginPath, body: []byte("{")}),
				c.do(request{method: http.MethodGet, path: api.RefreshPath}),
				c.do(request{method: http.MethodGet, path: api.BasePath + "/conformance-no-such-route"}),
			}
			for _, a := range answers {
				if !a.isEnv || a.env.OK || a.env.Error == nil {
					c.failf("%s: want the error envelope, got %s", a.what, a)
				}
				if strings.TrimSpace(a.env.Error.Message) == "" {
					c.failf("%s: want a message that says what is wrong, got an empty one", a.what)
				}
				if a.code().Status() != a.status {
					c.failf("%s: want HTTP status %d (code %d / 1000), got %d", a.what, a.code().Status(), a.code(), a.status)
				}
			}
		}},
}

// lockout sends wrong passwords to acc until the answer to one more is
// api.CodeAccountLocked, and fails unless that takes exactly the threshold.
func lockout(c *cx, acc account) {
	n := c.r.lockoutN
	for i := 1; i <= n; i++ {
		a := c.loginAs(acc.username, acc.password+"-wrong")
		if a.code() == api.CodeAccountLocked {
			c.failf("wrong password %d of %d: want 401 %d (the account locks at the %dth), got %s", i, n, api.CodeWrongPassword, n, a)
		}
		c.wantError(a, api.CodeWrongPassword)
	}
	c.wantError(c.loginAs(acc.username, acc.password+"-wrong"), api.CodeAccountLocked)
}

var lockoutCases = []kase{
	{name: "lockout/locks", checks: fmt.Sprintf("the Nth consecutive wrong password answers %d and locks: then every login answers %d, the right password too", api.CodeWrongPassword, api.CodeAccountLocked),
		run: func(c *cx) {
			acc := c.account("lock")
			lockout(c, acc)
			c.wantError(c.loginAs(acc.username, acc.password), api.CodeAccountLocked)
		}},
	{name: "lockout/per-account", checks: "a locked account leaves other accounts alone",
		run: func(c *cx) {
			locked, other := c.account("lockme"), c.account("free")
			lockout(c, locked)
			c.login(other)
		}},
	{name: "lockout/reset-by-correct-login", checks: "a correct login resets the count: N-1 wrong, right, N-1 wrong, right all pass",
		run: func(c *cx) {
			acc := c.account("reset")
			for round := 0; round < 2; round++ {
				for i := 1; i < c.r.lockoutN; i++ {
					c.wantError(c.loginAs(acc.username, acc.password+"-wrong"), api.CodeWrongPassword)
				}
				c.login(acc)
			}
		}},
	{name: "lockout/ends", needs: needControl, checks: "once the server's clock passes the account's locked_until, the right password logs in again",
		run: func(c *cx) {
			acc := c.account("unlock")
			lockout(c, acc)
			until, ok := c.lockedUntil(acc.username)
			if !ok {
				c.failf("GET /_mock/accounts: want a locked_until for the locked account, got null")
			}
			c.advancePast(until)
			c.login(acc)
		}},
}

// wrongMethod is a method that rt does not take.
func wrongMethod(rt api.Route) string {
	if rt.Method == http.MethodPut {
		return http.MethodPatch
	}
	return http.MethodPut
}

func routeCases() []kase {
	out := []kase{{name: "route/unknown-path", checks: fmt.Sprintf("a path that is no route answers %d, under the base path and outside it", api.CodeNoRoute),
		run: func(c *cx) {
			for _, p := range []string{api.BasePath + "/conformance-no-such-route", "/api/v1/conformance-no-such-route"} {
				c.wantError(c.do(request{method: http.MethodGet, path: p}), api.CodeNoRoute)
				c.wantError(c.do(request{method: http.MethodPost, path: p, body: []byte("{}")}), api.CodeNoRoute)
			}
		}}}
	for _, rt := range api.Routes {
		out = append(out, kase{name: "route/method-not-allowed/" + rt.Name,
			checks: fmt.Sprintf("%s %s answers %d with an Allow header holding %s", wrongMethod(rt), rt.Path, api.CodeMethodNotAllowed, rt.Method),
			run: func(c *cx) {
				a := c.do(request{method: wrongMethod(rt), path: rt.Path})
				c.wantError(a, api.CodeMethodNotAllowed)
				if allow := contractcheck.AllowedMethods(a.header); !slices.Contains(allow, rt.Method) {
					c.failf("%s: want an Allow header holding %s, got %q", a.what, rt.Method, a.header.Get("Allow"))
				}
			}})
	}
	return out
}

// expiry is the exp claim of tok.
func expiry(c *cx, tok string) time.Time {
	exp, ok := claimTime(tok, api.ClaimExpiresAt)
	if !ok {
		c.failf("want a token with an exp claim, got one without")
	}
	return exp
}

// listed reports whether the session of tok is a live session of the
// control plane.
func listed(c *cx, tok string) bool {
	return slices.Contains(c.liveSessions(), claimString(tok, api.ClaimSessionID))
}

var timeCases = []kase{
	{name: "expiry/access", needs: needControl, checks: fmt.Sprintf("past its exp an access token answers %d, while the refresh token still refreshes", api.CodeTokenExpired),
		run: func(c *cx) {
			p := c.login(c.account("expa"))
			c.advancePast(expiry(c, p.Access))
			c.wantError(c.logout(p.Access), api.CodeTokenExpired)
			c.wantTokens(c.refresh(p.Refresh))
		}},
	{name: "expiry/before-type", needs: needControl, checks: fmt.Sprintf("an expired access token on refresh answers %d: expiry is checked before the type", api.CodeTokenExpired),
		run: func(c *cx) {
			p := c.login(c.account("expt"))
			c.advancePast(expiry(c, p.Access))
			c.wantError(c.refresh(p.Access), api.CodeTokenExpired)
		}},
	{name: "expiry/refresh", needs: needControl, checks: fmt.Sprintf("past its exp a refresh token answers %d on refresh and on logout", api.CodeTokenExpired),
		run: func(c *cx) {
			p := c.login(c.account("expr"))
			c.advancePast(expiry(c, p.Refresh))
			c.wantError(c.refresh(p.Refresh), api.CodeTokenExpired)
			c.wantError(c.logout(p.Refresh), api.CodeTokenExpired)
		}},
	{name: "control/sessions-listed", needs: needControl, checks: "GET /_mock/sessions lists a session by its sid, the successor after a refresh, and neither after logout",
		run: func(c *cx) {
			p := c.login(c.account("list"))
			if !listed(c, p.Access) {
				c.failf("GET /_mock/sessions: want the session of login (its sid) listed, got a list without it")
			}
			p2 := c.wantTokens(c.refresh(p.Refresh))
			if listed(c, p.Access) || !listed(c, p2.Access) {
				c.failf("GET /_mock/sessions after a refresh: want the new session listed and the old one not, got otherwise")
			}
			c.wantOK(c.logout(p2.Access))
			if listed(c, p2.Access) {
				c.failf("GET /_mock/sessions after logout: want the session gone, got it listed")
			}
		}},
	{name: "sweep/expired-sessions", needs: needControl, checks: "a session whose refresh token has expired is swept: no longer listed",
		run: func(c *cx) {
			p := c.login(c.account("sweep"))
			c.advancePast(expiry(c, p.Refresh))
			if listed(c, p.Access) {
				c.failf("GET /_mock/sessions past the refresh token's exp: want the session swept, got it listed")
			}
		}},
}
