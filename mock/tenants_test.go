package mock_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dyor-exchange/dyorctl/internal/apitest"
	"github.com/dyor-exchange/dyorctl/mock"
)

// prefixed sends every request under a tenant's prefix. The validator
// wraps it, so it checks each exchange against the contract's own paths.
type prefixed struct {
	prefix string
	base   http.RoundTripper
}

func (p prefixed) RoundTrip(r *http.Request) (*http.Response, error) {
	r2 := r.Clone(r.Context())
	r2.URL.Path = p.prefix + r.URL.Path
	return p.base.RoundTrip(r2)
}

// tenantView is a test client of the tenant id of root: its paths are the
// contract's, sent under /t/{id}.
func tenantView(t *testing.T, root *testServer, id string) *testServer {
	t.Helper()
	tr := apitest.NewValidator(t).Transport(prefixed{mock.TenantPrefix + id, http.DefaultTransport})
	return &testServer{Server: root.Server, t: t, client: &http.Client{Transport: tr}}
}

func newTenant(t *testing.T, root *testServer) (mock.Tenant, *testServer) {
	t.Helper()
	a := root.do("POST", "/_mock/tenants", "")
	a.wantOK(t)
	var tn mock.Tenant
	if err := json.Unmarshal(a.env.Result, &tn); err != nil || tn.ID == "" {
		t.Fatalf("new tenant: %s", a.raw)
	}
	if want := root.URL + mock.TenantPrefix + tn.ID; tn.BaseURL != want {
		t.Fatalf("base_url %q, want %q", tn.BaseURL, want)
	}
	return tn, tenantView(t, root, tn.ID)
}

func (s *testServer) now() time.Time {
	s.t.Helper()
	a := s.do("GET", "/_mock/clock", "")
	a.wantOK(s.t)
	var c struct{ Now time.Time }
	if err := json.Unmarshal(a.env.Result, &c); err != nil {
		s.t.Fatal(err)
	}
	return c.Now
}

func (s *testServer) usernames() []string {
	s.t.Helper()
	a := s.do("GET", "/_mock/accounts", "")
	a.wantOK(s.t)
	var list struct{ Accounts []mock.Account }
	if err := json.Unmarshal(a.env.Result, &list); err != nil {
		s.t.Fatal(err)
	}
	var names []string
	for _, acc := range list.Accounts {
		names = append(names, acc.Username)
	}
	return names
}

func (s *testServer) journalPaths() []string {
	s.t.Helper()
	a := s.do("GET", "/_mock/requests", "")
	a.wantOK(s.t)
	var j struct{ Requests []mock.Request }
	if err := json.Unmarshal(a.env.Result, &j); err != nil {
		s.t.Fatal(err)
	}
	var paths []string
	for _, r := range j.Requests {
		paths = append(paths, r.Path)
	}
	return paths
}

// One tenant's accounts, tokens, sessions, clock, faults, lockouts and
// journal never reach another tenant or the root.
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	root := start(t, mock.WithLockout(2, time.Hour))
	tnA, a := newTenant(t, root)
	tnB, b := newTenant(t, root)
	if tnA.ID == tnB.ID {
		t.Fatal("two tenants with one id")
	}
	all := map[string]*testServer{"root": root, "A": a, "B": b}

	// Seeded like a new server: the example account in each.
	for name, s := range all {
		if got := s.usernames(); len(got) != 1 || got[0] != "john@API" {
			t.Fatalf("%s accounts = %v", name, got)
		}
	}
	// Accounts.
	a.do("POST", mock.RegisterPath, credsJSON("alice", "password1")).wantOK(t)
	a.login("alice", "password1")
	b.do("POST", mock.LoginPath, credsJSON("alice", "password1")).wantError(t, 404001)
	root.do("POST", mock.LoginPath, credsJSON("alice", "password1")).wantError(t, 404001)
	b.do("POST", mock.RegisterPath, credsJSON("alice", "password2")).wantOK(t) // the name is free there
	b.login("alice", "password2")
	a.do("POST", mock.LoginPath, credsJSON("alice", "password2")).wantError(t, 401005)

	// Tokens: each server's own are good, every other's are refused.
	pairs := map[string]pair{}
	for name, s := range all {
		pairs[name] = s.login("john@API", "honeyBunnies")
	}
	for name, s := range all {
		for other, p := range pairs {
			if other == name {
				continue
			}
			s.refresh(p.Refresh).wantError(t, 401002)
			s.logout(p.Access).wantError(t, 401002)
		}
	}
	for name, s := range all {
		p := s.refresh(pairs[name].Refresh)
		p.wantOK(t)
		pairs[name] = p.pair(t)
	}
	// Sessions: A's are listed in A only.
	var sessions struct{ Sessions []mock.Session }
	ans := a.do("GET", "/_mock/sessions", "")
	ans.wantOK(t)
	_ = json.Unmarshal(ans.env.Result, &sessions)
	if len(sessions.Sessions) != 2 { // alice's and john's
		t.Fatalf("A sessions = %+v", sessions.Sessions)
	}

	// Clock: advancing A's moves neither B's nor the root's.
	before := b.now()
	a.do("POST", "/_mock/clock", `{"advance":"16m"}`).wantOK(t)
	if d := a.now().Sub(before); d < 16*time.Minute {
		t.Fatalf("A's clock moved %v", d)
	}
	if d := b.now().Sub(before); d >= time.Minute {
		t.Fatalf("B's clock moved %v with A's", d)
	}
	if d := root.now().Sub(before); d >= time.Minute {
		t.Fatalf("the root's clock moved %v with A's", d)
	}
	a.logout(pairs["A"].Access).wantError(t, 401003) // expired on A's clock
	b.logout(pairs["B"].Access).wantOK(t)            // not on B's

	// Faults: a rule in A fires in A only.
	a.do("POST", "/_mock/faults", `{"route":"login","status":503}`).wantOK(t)
	a.do("POST", mock.LoginPath, credsJSON("john@API", "honeyBunnies")).wantError(t, 503000)
	b.login("john@API", "honeyBunnies")
	root.login("john@API", "honeyBunnies")
	a.do("DELETE", "/_mock/faults", "").wantOK(t)

	// Lockouts: john@API locked in B stays free in A and the root.
	for range 2 {
		b.do("POST", mock.LoginPath, credsJSON("john@API", "wrong-password")).wantError(t, 401005)
	}
	b.do("POST", mock.LoginPath, credsJSON("john@API", "honeyBunnies")).wantError(t, 403002)
	a.login("john@API", "honeyBunnies")
	root.login("john@API", "honeyBunnies")

	// Journal: each holds its own requests, on the contract's paths.
	for name, s := range all {
		for _, p := range s.journalPaths() {
			if strings.HasPrefix(p, mock.TenantPrefix) {
				t.Fatalf("%s journal has %q", name, p)
			}
		}
	}
	rootJournal := root.Requests()
	for _, r := range rootJournal {
		if r.Code == 401005 || r.Code == 403002 || r.Code == 503000 {
			t.Fatalf("the root's journal has a tenant's answer: %+v", r)
		}
	}

	// Reset of A leaves B alone; ending A leaves B and the root serving.
	a.do("POST", "/_mock/reset", "").wantOK(t)
	if got := b.usernames(); len(got) != 2 {
		t.Fatalf("B's accounts after A's reset = %v", got)
	}
	root.do("DELETE", "/_mock/tenants/"+tnA.ID, "").wantOK(t)
	root.do("POST", "/t/"+tnA.ID+mock.LoginPath, credsJSON("john@API", "honeyBunnies")).wantError(t, 404000)
	root.do("DELETE", "/_mock/tenants/"+tnA.ID, "").wantError(t, 404002)
	b.login("alice", "password2")
	ans = root.do("GET", "/_mock/tenants", "")
	ans.wantOK(t)
	var list struct{ Tenants []mock.Tenant }
	_ = json.Unmarshal(ans.env.Result, &list)
	if len(list.Tenants) != 1 || list.Tenants[0] != tnB {
		t.Fatalf("tenants = %+v, want only %+v", list.Tenants, tnB)
	}
	// A tenant has no tenants of its own.
	b.do("POST", "/_mock/tenants", "").wantError(t, 404000)
}

func TestTenantLimit(t *testing.T) {
	t.Parallel()
	root := start(t, mock.WithMaxTenants(2))
	first, _ := newTenant(t, root)
	newTenant(t, root)
	a := root.do("POST", "/_mock/tenants", "")
	a.wantError(t, 429000)
	if !strings.Contains(a.env.Error.Message, "limit") {
		t.Errorf("the refusal does not say why: %q", a.env.Error.Message)
	}
	if _, err := root.NewTenant(); !isCode(err, 429000) {
		t.Fatalf("NewTenant beyond the limit: %v", err)
	}
	root.do("DELETE", "/_mock/tenants/"+first.ID, "").wantOK(t)
	newTenant(t, root)

	off := start(t, mock.WithMaxTenants(0))
	off.do("POST", "/_mock/tenants", "").wantError(t, 404000)
	root.do("GET", "/_mock/tenants/"+first.ID, "").wantError(t, 405000)
	root.do("GET", "/t/not-a-tenant/healthz", "").wantError(t, 404000)
}

// A tenant with no request for the idle TTL ends; requests keep it alive.
func TestTenantIdleTTL(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	wait := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	root := start(t, mock.WithClock(clock), mock.WithTenantIdleTTL(10*time.Minute))
	tn, a := newTenant(t, root)
	kept, _ := newTenant(t, root)
	wait(9 * time.Minute)
	a.do("GET", "/healthz", "").wantOK(t)
	tenantView(t, root, kept.ID).do("GET", "/healthz", "").wantOK(t)
	wait(9 * time.Minute) // 18 minutes old, 9 idle
	a.do("GET", "/healthz", "").wantOK(t)
	wait(10 * time.Minute)
	root.do("GET", "/t/"+tn.ID+"/healthz", "").wantError(t, 404000)
	if got := root.Tenants(); len(got) != 0 {
		t.Fatalf("tenants after the idle TTL = %+v (%s and %s were idle)", got, tn.ID, kept.ID)
	}
}

// In Go: NewTenant gives a server with a URL and every method; Close ends
// it, and closing the root ends them all.
func TestTenantGo(t *testing.T) {
	t.Parallel()
	root := start(t)
	tn, err := root.NewTenant()
	if err != nil {
		t.Fatal(err)
	}
	if tn.TenantID() == "" || tn.URL != root.URL+"/t/"+tn.TenantID() || root.TenantID() != "" {
		t.Fatalf("tenant %q at %q", tn.TenantID(), tn.URL)
	}
	m, err := tn.MintSession("john@API", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	view := tenantView(t, root, tn.TenantID())
	view.refresh(m.Refresh).wantOK(t)
	root.refresh(m.Refresh).wantError(t, 401002)
	if _, err := tn.NewTenant(); !isCode(err, 404000) {
		t.Fatalf("a tenant's NewTenant: %v", err)
	}
	tn.Close()
	root.do("GET", "/t/"+tn.TenantID()+"/healthz", "").wantError(t, 404000)
	if err := root.DeleteTenant(tn.TenantID()); !isCode(err, 404002) {
		t.Fatalf("DeleteTenant after Close: %v", err)
	}

	other := mock.NewServer(mock.WithBcryptCost(4))
	kept, err := other.NewTenant()
	if err != nil {
		t.Fatal(err)
	}
	other.Close()
	if _, err := kept.MintSession("john@API", 0, 0); err != nil {
		t.Fatal(err) // the Go methods still answer; the server no longer serves it
	}
	if _, err := other.NewTenant(); err == nil {
		t.Fatal("NewTenant on a closed server")
	}
	if got := other.Tenants(); len(got) != 0 {
		t.Fatalf("a closed server lists %+v", got)
	}
}

// A thousand tenants (the default limit) in one server, each its own: an
// account added to one is in no other, and a token of one is refused by
// the others. One more is refused.
func TestThousandTenants(t *testing.T) {
	t.Parallel()
	s, err := mock.New(mock.WithBcryptCost(4))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tenants := make([]*mock.Server, mock.DefaultMaxTenants)
	for i := range tenants {
		if tenants[i], err = s.NewTenant(); err != nil {
			t.Fatalf("tenant %d: %v", i, err)
		}
	}
	if _, err := s.NewTenant(); !isCode(err, 429000) {
		t.Fatalf("tenant %d: %v, want 429000", len(tenants)+1, err)
	}
	if n := len(s.Tenants()); n != len(tenants) {
		t.Fatalf("%d tenants listed", n)
	}
	h := s.Handler()
	for _, i := range []int{0, 1, 499, 998, 999} {
		name := fmt.Sprintf("user-%d", i)
		if _, err := tenants[i].AddAccount(name, "password1"); err != nil {
			t.Fatal(err)
		}
		m, err := tenants[i].MintSession(name, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range []int{0, 1, 499, 998, 999} {
			r := httptest.NewRequest("GET", "/t/"+tenants[j].TenantID()+mock.RefreshPath, nil)
			r.Header.Set("Authorization", "Bearer "+m.Refresh)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if j == i {
				if w.Code != 200 {
					t.Fatalf("tenant %d's token in its own tenant: %d %s", i, w.Code, w.Body)
				}
				continue
			}
			if w.Code != 401 || !strings.Contains(w.Body.String(), "401002") {
				t.Fatalf("tenant %d's token in tenant %d: %d %s", i, j, w.Code, w.Body)
			}
			if _, err := tenants[j].MintSession(name, 0, 0); !isCode(err, 404001) {
				t.Fatalf("tenant %d's account %s in tenant %d: %v", i, name, j, err)
			}
		}
	}
}
