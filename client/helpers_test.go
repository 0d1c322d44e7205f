package client_test

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/dyor-exchange/dyorctl/client"
	"github.com/dyor-exchange/dyorctl/mock"
)

// fakeJWT builds an unsigned-looking JWT with the given claims; the client
// never checks signatures, so this is enough for parsing tests.
func fakeJWT(t testing.TB, claims map[string]any) string {
	t.Helper()
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return header + "." + base64.RawURLEncoding.EncodeToString(payload) + ".c2ln"
}

// fakePair returns tokens whose access expires at accessExp and refresh at
// refreshExp, issued at iat.
func fakePair(t testing.TB, iat, accessExp, refreshExp time.Time) client.Tokens {
	t.Helper()
	access := fakeJWT(t, map[string]any{"sub": "acc-1", "sid": "sess-1", "typ": "access", "iat": iat.Unix(), "exp": accessExp.Unix()})
	refresh := fakeJWT(t, map[string]any{"sub": "acc-1", "sid": "sess-1", "typ": "refresh", "iat": iat.Unix(), "exp": refreshExp.Unix()})
	tok, err := client.ParseTokens(access, refresh)
	if err != nil {
		t.Fatal(err)
	}
	tok.Username = "john@API"
	return tok
}

// suiteFindings are the findings that fail every test of the package: the
// SDK never reuses a refresh token, presents an expired token or leaks
// sessions. An early refresh is checked where the SDK decides to refresh
// (TestAutomaticRefreshIsNeverEarly, the fault tests): an explicit Refresh
// of a fresh token is the caller's wish.
var suiteFindings = []mock.FindingKind{mock.FindingReuse, mock.FindingExpiredToken, mock.FindingSessionLeak}

// startMock starts a mock server with cheap bcrypt that fails the test at
// cleanup on any of suiteFindings. A test narrows the check with allowing,
// or widens it with its own mock.FailOnFindings (a later option counts).
func startMock(t testing.TB, opts ...mock.Option) *mock.Server {
	t.Helper()
	return mock.Start(t, append([]mock.Option{mock.WithBcryptCost(4), mock.FailOnFindings(suiteFindings...)}, opts...)...)
}

// allowing is mock.FailOnFindings of suiteFindings but the given ones, for
// a test that makes the client do one of them on purpose: a token rotated
// behind the client's back is reused, clocks set apart present expired
// tokens.
func allowing(kinds ...mock.FindingKind) mock.Option {
	var rest []mock.FindingKind
	for _, k := range suiteFindings {
		if !slices.Contains(kinds, k) {
			rest = append(rest, k)
		}
	}
	if len(rest) == 0 {
		panic("allowing every finding: FailOnFindings() with no kind means all")
	}
	return mock.FailOnFindings(rest...)
}

// mint makes a session of john@API on srv and returns its tokens as the
// client reads them.
func mint(t testing.TB, srv *mock.Server, accessTTL, refreshTTL time.Duration) client.Tokens {
	t.Helper()
	m, err := srv.MintSession(mock.ExampleUsername, accessTTL, refreshTTL)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := client.ParseTokens(m.Access, m.Refresh)
	if err != nil {
		t.Fatal(err)
	}
	tok.Username = mock.ExampleUsername
	return tok
}

// loggedIn returns a client of srv on the mock's clock whose memory store
// holds tok.
func loggedIn(t testing.TB, srv *mock.Server, tok client.Tokens, opts ...client.Option) *client.Client {
	t.Helper()
	store := client.NewMemoryStore()
	if err := store.Save(t.Context(), tok); err != nil {
		t.Fatal(err)
	}
	c, err := client.New(srv.URL, append([]client.Option{client.WithTokenStore(store), client.WithClock(srv.Now)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// requests counts the journal's requests to path.
func requests(srv *mock.Server, path string) []mock.Request {
	var out []mock.Request
	for _, r := range srv.Requests() {
		if r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// live reports whether the mock has a live session with id sid.
func live(srv *mock.Server, sid string) bool {
	for _, s := range srv.Sessions() {
		if s.ID == sid {
			return true
		}
	}
	return false
}
