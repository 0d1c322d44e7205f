package mock_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dyor-exchange/dyorctl/api"
	"github.com/dyor-exchange/dyorctl/mock"
	"github.com/getkin/kin-openapi/openapi3"
)

// noReuse is a client on a new connection each time: net/http resends a
// GET whose reused connection was closed without an answer, which would
// hide a dropped answer from the test.
var noReuse = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

// try sends a request like do, on a new connection and unchecked, but hands
// back a transport error or a body cut short instead of failing the test.
func (s *testServer) try(method, path, body string, headers ...string) (answer, error) {
	s.t.Helper()
	return s.send(noReuse, method, path, body, headers...)
}

func (s *testServer) addFault(f mock.Fault) mock.Fault {
	s.t.Helper()
	stored, err := s.AddFaultRule(f)
	if err != nil {
		s.t.Fatal(err)
	}
	return stored
}

// sessionIDs lists the live sessions as a test in any language sees them:
// GET /_mock/sessions.
func (s *testServer) sessionIDs() []string {
	s.t.Helper()
	a := s.do("GET", "/_mock/sessions", "")
	a.wantOK(s.t)
	var res struct{ Sessions []struct{ ID string } }
	if err := json.Unmarshal(a.env.Result, &res); err != nil {
		s.t.Fatalf("GET /_mock/sessions: %v", err)
	}
	ids := []string{}
	for _, sess := range res.Sessions {
		ids = append(ids, sess.ID)
	}
	return ids
}

// With a commit-then-drop fault on refresh the server rotates, the client
// gets no answer, and the journal says both.
func TestFaultAfterDropRotatesThenDrops(t *testing.T) {
	t.Parallel()
	s := start(t)
	p := s.login("john@API", "honeyBunnies")
	oldSID := claimsOf(t, p.Access)["sid"].(string)
	rule := s.addFault(mock.Fault{Route: "refresh", Drop: true, After: true, Times: 1})
	if _, err := s.try("GET", mock.RefreshPath, "", "Authorization: Bearer "+p.Refresh); err == nil {
		t.Fatal("the dropped refresh gave an answer")
	}
	// GET /_mock/sessions shows the rotated session: a new id, not the old.
	ids := s.sessionIDs()
	if len(ids) != 1 || ids[0] == oldSID {
		t.Fatalf("live sessions after the lost answer = %v (the old one was %s)", ids, oldSID)
	}
	j := s.RequestsWhere(mock.RequestFilter{Route: "refresh"})
	if len(j) != 1 || j[0].Status != 0 || j[0].Fault != rule.ID || j[0].Handled == nil ||
		j[0].Handled.Status != 200 || j[0].Handled.Code != 0 {
		t.Fatalf("journal = %+v", j)
	}
	// The client kept the old refresh token: presenting it again is reuse.
	s.refresh(p.Refresh).wantError(t, 401004)
	if n := len(s.Sessions()); n != 0 {
		t.Fatalf("%d live sessions after the reuse", n)
	}
}

// A rule without after drops before any work: the session is untouched.
func TestFaultBeforeDropChangesNothing(t *testing.T) {
	t.Parallel()
	s := start(t)
	p := s.login("john@API", "honeyBunnies")
	sid := claimsOf(t, p.Access)["sid"].(string)
	s.addFault(mock.Fault{Route: "refresh", Drop: true, Times: 1})
	if _, err := s.try("GET", mock.RefreshPath, "", "Authorization: Bearer "+p.Refresh); err == nil {
		t.Fatal("the dropped refresh gave an answer")
	}
	if ids := s.sessionIDs(); len(ids) != 1 || ids[0] != sid {
		t.Fatalf("sessions = %v, want the untouched %s", ids, sid)
	}
	if j := s.Requests(); len(j) != 2 || j[1].Handled != nil {
		t.Fatalf("journal = %+v", j)
	}
	s.refresh(p.Refresh).wantOK(t)
}

// After the work, a status replaces the answer: the account was
// registered, the session deleted, and the journal has both answers.
func TestFaultAfterStatusReplacesTheAnswer(t *testing.T) {
	t.Parallel()
	s := start(t)
	s.addFault(mock.Fault{Route: "register", Status: 503, After: true, Times: 1})
	s.do("POST", mock.RegisterPath, credsJSON("alice", "password1")).wantError(t, 503000)
	s.do("POST", mock.RegisterPath, credsJSON("alice", "password1")).wantError(t, 409001)

	p := s.login("alice", "password1")
	s.addFault(mock.Fault{Route: "logout", Status: 502, After: true, Times: 1})
	s.logout(p.Access).wantError(t, 502000)
	if n := len(s.Sessions()); n != 0 {
		t.Fatalf("the session outlived a logout whose answer was replaced: %d", n)
	}
	j := s.RequestsWhere(mock.RequestFilter{Route: "logout"})
	if len(j) != 1 || j[0].Status != 502 || j[0].Code != 502000 || j[0].Handled == nil || j[0].Handled.Status != 200 {
		t.Fatalf("journal = %+v", j)
	}
	// A handling that failed is recorded as such.
	s.addFault(mock.Fault{Route: "logout", Drop: true, After: true, Times: 1})
	if _, err := s.try("DELETE", mock.LogoutPath, "", "Authorization: Bearer "+p.Access); err == nil {
		t.Fatal("dropped logout answered")
	}
	j = s.RequestsWhere(mock.RequestFilter{Route: "logout"})
	if last := j[len(j)-1]; last.Handled == nil || last.Handled.Code != 401004 || last.Status != 0 {
		t.Fatalf("journal = %+v", last)
	}
}

// After the work, a delay holds the answer: a client that gives up has
// lost an answer the server already acted on.
func TestFaultAfterDelayLosesTheAnswer(t *testing.T) {
	t.Parallel()
	s := start(t)
	p := s.login("john@API", "honeyBunnies")
	s.addFault(mock.Fault{Route: "refresh", Delay: time.Minute, After: true, Times: 1})
	req, _ := http.NewRequest("GET", s.URL+mock.RefreshPath, nil)
	req.Header.Set("Authorization", "Bearer "+p.Refresh)
	c := &http.Client{Timeout: 200 * time.Millisecond}
	if resp, err := c.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("the delayed answer came")
	}
	// The rotation happened before the delay began.
	s.refresh(p.Refresh).wantError(t, 401004)
}

// The journal entry of a dropped or cut answer is there as soon as the
// client has seen the drop.
func TestJournalIsWrittenBeforeTheAnswer(t *testing.T) {
	t.Parallel()
	s := start(t)
	body := credsJSON("john@API", "honeyBunnies")
	for i := range 30 {
		s.addFault(mock.Fault{Route: "login", Drop: true, After: i%2 == 0, Times: 1})
		if _, err := s.try("POST", mock.LoginPath, body); err == nil {
			t.Fatal("a dropped login answered")
		}
		if n := len(s.Requests()); n != 2*i+1 {
			t.Fatalf("round %d: %d journal entries when the client saw the drop", i, n)
		}
		s.addFault(mock.Fault{Route: "login", Truncate: true, Times: 1})
		resp, err := http.Post(s.URL+mock.LoginPath, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("a cut login: %v", err)
		}
		j := s.Requests()
		if len(j) != 2*i+2 || !j[len(j)-1].Truncated || j[len(j)-1].Status != 200 {
			t.Fatalf("round %d: journal = %+v", i, j)
		}
	}
}

// Two refreshes of one token, held until both arrived, collide: strict,
// exactly one gets a pair; with a grace, both get the same pair.
func TestCollisionOfTwoRefreshes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		grace time.Duration
	}{{"strict", 0}, {"grace", 5 * time.Second}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := start(t, mock.WithRefreshGrace(tc.grace))
			p := s.login("john@API", "honeyBunnies")
			rule := s.addFault(mock.Fault{Route: "refresh", Collide: 2, Timeout: time.Minute, Times: 1})
			var wg sync.WaitGroup
			answers := make([]answer, 2)
			for i := range answers {
				wg.Go(func() { answers[i] = s.refresh(p.Refresh) })
			}
			wg.Wait()
			var pairs []pair
			for _, a := range answers {
				if a.status == 200 {
					pairs = append(pairs, a.pair(t))
				} else {
					a.wantError(t, 401004)
				}
			}
			switch {
			case tc.grace == 0 && len(pairs) != 1:
				t.Fatalf("strict: %d of 2 colliding refreshes got a pair", len(pairs))
			case tc.grace > 0 && (len(pairs) != 2 || pairs[0] != pairs[1]):
				t.Fatalf("grace: colliding refreshes got %d pairs, equal: %v", len(pairs), len(pairs) == 2 && pairs[0] == pairs[1])
			}
			for _, r := range s.RequestsWhere(mock.RequestFilter{Route: "refresh"}) {
				if r.Collision != mock.CollisionComplete || r.Fault != rule.ID {
					t.Fatalf("journal = %+v", r)
				}
			}
			if n := len(s.Faults()); n != 0 {
				t.Fatalf("the collision rule stayed after its one group: %d rules", n)
			}
			if tc.grace > 0 {
				if f := s.Findings(mock.FindingReuse); len(f) != 0 {
					t.Fatalf("a retry within the grace is a finding: %+v", f)
				}
				s.refresh(pairs[0].Refresh).wantOK(t) // the pair is the live end of the chain
			}
		})
	}
}

// A collision rule whose group never fills lets it go at the timeout.
func TestCollisionTimesOutAlone(t *testing.T) {
	t.Parallel()
	s := start(t)
	p := s.login("john@API", "honeyBunnies")
	s.do("POST", "/_mock/faults", `{"route":"refresh","collide":2,"timeout":"50ms","times":1}`).wantOK(t)
	s.refresh(p.Refresh).wantOK(t) // held for the timeout, then handled
	j := s.RequestsWhere(mock.RequestFilter{Route: "refresh"})
	if len(j) != 1 || j[0].Collision != mock.CollisionTimeout || j[0].DurationMS < 50 {
		t.Fatalf("journal = %+v", j)
	}
}

// Deleting a collision rule lets the requests it holds go; its held count
// shows them waiting, so a test needs no sleep.
func TestDeletingACollisionRuleReleasesIt(t *testing.T) {
	t.Parallel()
	s := start(t)
	p := s.login("john@API", "honeyBunnies")
	rule := s.addFault(mock.Fault{Route: "refresh", Collide: 3, Timeout: 10 * time.Minute})
	done := make(chan answer)
	go func() { done <- s.refresh(p.Refresh) }()
	waitFor(t, func() bool { f := s.Faults(); return len(f) == 1 && f[0].Held == 1 })
	var list struct{ Faults []map[string]any }
	_ = json.Unmarshal(s.do("GET", "/_mock/faults", "").env.Result, &list)
	if list.Faults[0]["held"].(float64) != 1 || list.Faults[0]["remaining"] != nil {
		t.Fatalf("faults = %v", list.Faults)
	}
	s.do("DELETE", "/_mock/faults/"+rule.ID, "").wantOK(t)
	(<-done).wantOK(t)
	s.do("DELETE", "/_mock/faults/"+rule.ID, "").wantError(t, 404002)
}

// waitFor polls cond with a deadline.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting")
		}
		time.Sleep(time.Millisecond) // polling with a deadline
	}
}

// Within the grace only the immediately previous refresh token gets the
// rotation's pair again; after it, or an older token, is reuse as today.
func TestRefreshGrace(t *testing.T) {
	t.Parallel()
	s := start(t)
	s.do("POST", "/_mock/settings", `{"refresh_grace":"5s"}`).wantOK(t)
	a := s.login("john@API", "honeyBunnies")
	b := s.refresh(a.Refresh).pair(t)
	again := s.refresh(a.Refresh)
	if again.pair(t) != b {
		t.Fatal("the previous token within the grace did not get the same pair")
	}
	if n := len(s.Sessions()); n != 1 || len(s.Findings(mock.FindingReuse)) != 0 {
		t.Fatalf("sessions %d, findings %+v after a retry within the grace", n, s.Findings())
	}
	c := s.refresh(b.Refresh).pair(t)
	// a is now two rotations back: reuse, the chain is revoked.
	s.refresh(a.Refresh).wantError(t, 401004)
	s.refresh(c.Refresh).wantError(t, 401004)
	if f := s.Findings(mock.FindingReuse); len(f) != 1 {
		t.Fatalf("reuse findings = %+v", f)
	}

	// After the grace: reuse.
	d := s.login("john@API", "honeyBunnies")
	e := s.refresh(d.Refresh).pair(t)
	if err := s.Advance(6 * time.Second); err != nil {
		t.Fatal(err)
	}
	s.refresh(d.Refresh).wantError(t, 401004)
	s.refresh(e.Refresh).wantError(t, 401004)

	// Strict again (the default): the previous token at once is reuse.
	s.do("POST", "/_mock/settings", `{"refresh_grace":"0s"}`).wantOK(t)
	f := s.login("john@API", "honeyBunnies")
	s.refresh(f.Refresh).wantOK(t)
	s.refresh(f.Refresh).wantError(t, 401004)
}

func TestSettings(t *testing.T) {
	t.Parallel()
	s := start(t, mock.WithRefreshTTL(time.Hour))
	var got struct {
		RefreshGrace         string `json:"refresh_grace"`
		SessionLeakThreshold int    `json:"session_leak_threshold"`
	}
	a := s.do("GET", "/_mock/settings", "")
	a.wantOK(t)
	if err := json.Unmarshal(a.env.Result, &got); err != nil || got.RefreshGrace != "0s" || got.SessionLeakThreshold != 10 {
		t.Fatalf("settings = %s", a.raw)
	}
	a = s.do("POST", "/_mock/settings", `{"session_leak_threshold":3}`)
	a.wantOK(t)
	_ = json.Unmarshal(a.env.Result, &got)
	if got.RefreshGrace != "0s" || got.SessionLeakThreshold != 3 {
		t.Fatalf("settings after a partial update = %s", a.raw)
	}
	for bad, field := range map[string]string{
		`{"refresh_grace":"-1s"}`:                   "refresh_grace",
		`{"refresh_grace":"2h"}`:                    "refresh_grace", // over the refresh lifetime
		`{"refresh_grace":"soon"}`:                  "refresh_grace",
		`{"refresh_grace":5}`:                       "refresh_grace",
		`{"session_leak_threshold":0}`:              "session_leak_threshold",
		`{"session_leak_threshold":-2}`:             "session_leak_threshold",
		`{"session_leak_threshold":"ten"}`:          "session_leak_threshold",
		`{"refresh_grace":"1s","refresh_gracee":1}`: "refresh_gracee",
	} {
		a := s.do("POST", "/_mock/settings", bad)
		a.wantError(t, 400002)
		if !strings.Contains(a.env.Error.Message, field) {
			t.Errorf("%s: message %q does not name %s", bad, a.env.Error.Message, field)
		}
	}
	if v := s.Settings(); v.SessionLeakThreshold != 3 || v.RefreshGrace != 0 {
		t.Fatalf("a refused update changed the settings: %+v", v)
	}
	if err := s.UpdateSettings(mock.Settings{RefreshGrace: 2 * time.Hour, SessionLeakThreshold: 1}); !isCode(err, 400002) {
		t.Fatalf("UpdateSettings over the refresh TTL = %v", err)
	}
	s.Reset()
	if v := s.Settings(); v.SessionLeakThreshold != 10 {
		t.Fatalf("Reset kept the settings: %+v", v)
	}
	if _, err := mock.New(mock.WithRefreshTTL(time.Minute), mock.WithRefreshGrace(2*time.Minute)); err == nil {
		t.Fatal("a grace over the refresh TTL was accepted")
	}
}

// Each finding kind is noted with its route, session and username, never
// a token; reset and DELETE empty them.
func TestFindings(t *testing.T) {
	t.Parallel()
	s := start(t, mock.WithAccessTTL(time.Minute), mock.WithSessionLeakThreshold(2))
	p := s.login("john@API", "honeyBunnies")
	sid := claimsOf(t, p.Access)["sid"].(string)

	// early-refresh: the access token has all of its minute left.
	q := s.refresh(p.Refresh).pair(t)
	// reuse
	s.refresh(p.Refresh).wantError(t, 401004)
	// expired-token
	m, err := s.MintSession("john@API", time.Second, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Advance(3 * time.Second); err != nil {
		t.Fatal(err)
	}
	s.refresh(m.Refresh).wantError(t, 401003)
	// session-leak: a third live session with a threshold of 2 (the minted
	// one has expired; p's chain is revoked).
	for range 3 {
		s.login("john@API", "honeyBunnies")
	}
	a := s.do("GET", "/_mock/findings", "")
	a.wantOK(t)
	var list struct{ Findings []mock.Finding }
	if err := json.Unmarshal(a.env.Result, &list); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		kind  mock.FindingKind
		route string
		sid   string
	}{{mock.FindingEarlyRefresh, "refresh", sid}, {mock.FindingReuse, "refresh", sid}, {mock.FindingExpiredToken, "refresh", m.SessionID}, {mock.FindingSessionLeak, "login", ""}}
	if len(list.Findings) != len(want) {
		t.Fatalf("findings = %s", a.raw)
	}
	for i, w := range want {
		f := list.Findings[i]
		if f.Kind != w.kind || f.Route != w.route || (w.sid != "" && f.SessionID != w.sid) || f.SessionID == "" ||
			f.Username != "john@API" || f.Message == "" || f.Time.IsZero() {
			t.Errorf("finding %d = %+v, want %s on %s", i, f, w.kind, w.route)
		}
	}
	for _, secret := range []string{p.Access, p.Refresh, q.Refresh, m.Refresh, m.Access, "honeyBunnies"} {
		if strings.Contains(a.raw, secret) {
			t.Fatal("a finding holds a token or a password")
		}
	}
	a = s.do("GET", "/_mock/findings?kind=reuse,session-leak", "")
	if err := json.Unmarshal(a.env.Result, &list); err != nil || len(list.Findings) != 2 {
		t.Fatalf("filtered findings = %s", a.raw)
	}
	a = s.do("GET", "/_mock/findings?kind=reused", "")
	a.wantError(t, 400002)
	if !strings.Contains(a.env.Error.Message, "kind") {
		t.Fatalf("message %q does not name kind", a.env.Error.Message)
	}
	s.do("DELETE", "/_mock/findings", "").wantOK(t)
	if n := len(s.Findings()); n != 0 {
		t.Fatalf("%d findings after DELETE", n)
	}
	s.refresh(q.Refresh).wantError(t, 401004) // revoked with the chain: not reuse of q itself
	s.logout(p.Refresh).wantError(t, 401004)  // a rotated refresh token, at logout
	if f := s.Findings(); len(f) != 1 || f[0].Kind != mock.FindingReuse || f[0].Route != "logout" {
		t.Fatalf("findings = %+v", f)
	}
	s.Reset()
	if n := len(s.Findings()); n != 0 {
		t.Fatalf("%d findings after reset", n)
	}
}

// A client that refreshes at the margin the SDK uses (half the lifetime or
// less left) is not early.
func TestNoEarlyRefreshAtHalfTheLifetime(t *testing.T) {
	t.Parallel()
	base := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	s := start(t, mock.WithAccessTTL(time.Minute), mock.WithClock(func() time.Time { return base }))
	p := s.login("john@API", "honeyBunnies")
	if err := s.Advance(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	s.refresh(p.Refresh).wantOK(t)
	if f := s.Findings(); len(f) != 0 {
		t.Fatalf("findings = %+v", f)
	}
}

// fakeTB records what Start's cleanup reports.
type fakeTB struct {
	testing.TB
	mu       sync.Mutex
	cleanups []func()
	errors   []string
}

func (f *fakeTB) Helper()           {}
func (f *fakeTB) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }
func (f *fakeTB) Error(args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errors = append(f.errors, fmt.Sprint(args...))
}
func (f *fakeTB) Errorf(format string, args ...any) { f.Error(fmt.Sprintf(format, args...)) }
func (f *fakeTB) Fatal(args ...any)                 { f.TB.Fatal(args...) }
func (f *fakeTB) Fatalf(format string, args ...any) { f.TB.Fatalf(format, args...) }

func (f *fakeTB) runCleanups() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}

// FailOnFindings fails the test at cleanup, listing the findings of its
// kinds, and only those.
func TestFailOnFindings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		kinds []mock.FindingKind
		fails bool
	}{
		{"all kinds", nil, true},
		{"reuse", []mock.FindingKind{mock.FindingReuse}, true},
		{"other kinds", []mock.FindingKind{mock.FindingSessionLeak, mock.FindingExpiredToken}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ft := &fakeTB{TB: t}
			srv := mock.Start(ft, mock.WithBcryptCost(4), mock.WithAccessTTL(2*time.Second), mock.FailOnFindings(tc.kinds...))
			m, err := srv.MintSession("john@API", 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			if err := srv.Advance(1500 * time.Millisecond); err != nil {
				t.Fatal(err)
			}
			for range 2 { // the second is reuse
				req, _ := http.NewRequest("GET", srv.URL+mock.RefreshPath, nil)
				req.Header.Set("Authorization", "Bearer "+m.Refresh)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
			}
			if len(ft.errors) != 0 {
				t.Fatalf("reported before cleanup: %v", ft.errors)
			}
			ft.runCleanups()
			report := strings.Join(ft.errors, "\n")
			if tc.fails != (len(ft.errors) == 1) || (tc.fails && (!strings.Contains(report, "reuse on refresh") ||
				!strings.Contains(report, m.SessionID) || strings.Contains(report, m.Refresh))) {
				t.Fatalf("report = %q", report)
			}
		})
	}
	if _, err := mock.New(mock.FailOnFindings("reused")); err == nil || !strings.Contains(err.Error(), "reused") {
		t.Fatalf("an unknown kind: %v", err)
	}
}

// Control-plane bodies with a field the server does not know are refused,
// naming it, and change nothing.
func TestControlRefusesUnknownFields(t *testing.T) {
	t.Parallel()
	s := start(t)
	for _, tc := range []struct{ path, body, field string }{
		{"/_mock/faults", `{"route":"login","status":503,"time":1}`, `"time"`},
		{"/_mock/faults", `{"route":"login","status":503,"id":"f9"}`, `"id"`},
		{"/_mock/sessions", `{"username":"john@API","acces_ttl":"1s"}`, `"acces_ttl"`},
		{"/_mock/accounts", `{"username":"alice","password":"password1","admin":true}`, `"admin"`},
		{"/_mock/clock", `{"advance":"1m","to":"2030-01-01T00:00:00Z"}`, `"to"`},
		{"/_mock/settings", `{"grace":"5s"}`, `"grace"`},
	} {
		a := s.do("POST", tc.path, tc.body)
		a.wantError(t, 400002)
		if !strings.Contains(a.env.Error.Message, tc.field) {
			t.Errorf("POST %s %s: message %q does not name %s", tc.path, tc.body, a.env.Error.Message, tc.field)
		}
	}
	a := s.do("GET", "/_mock/requests?stauts=200", "")
	a.wantError(t, 400002)
	if !strings.Contains(a.env.Error.Message, `"stauts"`) {
		t.Errorf("message %q does not name the parameter", a.env.Error.Message)
	}
	if len(s.Faults()) != 0 || len(s.Sessions()) != 0 || len(s.Accounts()) != 1 {
		t.Fatal("a refused request changed the state")
	}
}

func TestFaultRuleLimits(t *testing.T) {
	t.Parallel()
	s := start(t)
	for i := range mock.MaxFaults {
		if err := s.AddFault(mock.Fault{Route: "logout", Status: 503}); err != nil {
			t.Fatalf("rule %d: %v", i, err)
		}
	}
	a := s.do("POST", "/_mock/faults", `{"route":"login","status":503}`)
	a.wantError(t, 400002)
	if !strings.Contains(a.env.Error.Message, "1000") {
		t.Fatalf("message %q does not name the limit", a.env.Error.Message)
	}
	s.ClearFaults()
	for bad, field := range map[string]string{
		`{"route":"login","collide":1}`:                              "collide",
		`{"route":"login","collide":-2}`:                             "collide",
		`{"route":"login","collide":101}`:                            "collide",
		`{"route":"login","collide":2,"status":503}`:                 "status",
		`{"route":"login","collide":2,"after":true}`:                 "after",
		`{"route":"login","status":503,"timeout":"1s"}`:              "timeout",
		`{"route":"login","collide":2,"timeout":"11m"}`:              "timeout",
		`{"route":"login","status":500,"retry_after":"5s"}`:          "retry_after",
		`{"route":"login","status":503,"retry_after":"1500ms"}`:      "retry_after",
		`{"route":"login","after":true}`:                             "status, delay",
		`{"route":"login","status":503,"times":-1}`:                  "times",
		`{"route":"login","status":503,"after":"yes"}`:               "after",
		`{"route":"login","drop":true,"truncate":true,"after":true}`: "drop",
	} {
		a := s.do("POST", "/_mock/faults", bad)
		a.wantError(t, 400002)
		if !strings.Contains(a.env.Error.Message, field) {
			t.Errorf("%s: message %q does not name %s", bad, a.env.Error.Message, field)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	s := start(t)
	s.do("POST", "/_mock/faults", `{"route":"login","status":429,"retry_after":"30s","times":1}`).wantOK(t)
	a := s.do("POST", mock.LoginPath, credsJSON("john@API", "honeyBunnies"))
	a.wantError(t, 429000)
	if got := a.header.Get("Retry-After"); got != "30" {
		t.Fatalf("Retry-After = %q", got)
	}
	if a := s.do("POST", mock.LoginPath, credsJSON("john@API", "honeyBunnies")); a.header.Get("Retry-After") != "" {
		t.Fatal("Retry-After on a normal answer")
	}
}

func TestClockOffsetIsCapped(t *testing.T) {
	t.Parallel()
	s := start(t)
	t0 := s.Now()
	for range 10 {
		s.do("POST", "/_mock/clock", `{"advance":"87600h"}`).wantOK(t)
	}
	a := s.do("POST", "/_mock/clock", `{"advance":"87600h"}`)
	a.wantError(t, 400002)
	if !strings.Contains(a.env.Error.Message, "876000h") {
		t.Fatalf("message %q does not name the limit", a.env.Error.Message)
	}
	if d := s.Now().Sub(t0); d < mock.MaxClockOffset-time.Minute || d > mock.MaxClockOffset+time.Minute {
		t.Fatalf("the clock moved %v", d)
	}
	p := s.login("john@API", "honeyBunnies")
	if iat := claimsOf(t, p.Access)["iat"].(float64); iat <= 0 {
		t.Fatalf("iat %v", iat)
	}
}

// The journal can be filtered by route, status and time, and cleared on
// its own.
func TestJournalFilterAndClear(t *testing.T) {
	t.Parallel()
	s := start(t)
	p := s.login("john@API", "honeyBunnies")
	s.do("POST", mock.LoginPath, credsJSON("john@API", "wrong-password")).wantError(t, 401005)
	if err := s.Advance(time.Hour); err != nil {
		t.Fatal(err)
	}
	since := s.Now()
	s.refresh(p.Refresh).wantOK(t)
	get := func(query string) []mock.Request {
		t.Helper()
		a := s.do("GET", "/_mock/requests"+query, "")
		a.wantOK(t)
		var j struct{ Requests []mock.Request }
		if err := json.Unmarshal(a.env.Result, &j); err != nil {
			t.Fatal(err)
		}
		return j.Requests
	}
	if j := get("?route=login"); len(j) != 2 || j[0].Route != "login" {
		t.Fatalf("route=login: %+v", j)
	}
	if j := get("?route=login&status=401"); len(j) != 1 || j[0].Code != 401005 {
		t.Fatalf("status=401: %+v", j)
	}
	if j := get("?since=" + since.UTC().Format(time.RFC3339Nano)); len(j) != 1 || j[0].Route != "refresh" {
		t.Fatalf("since: %+v", j)
	}
	for _, bad := range []string{"?route=whoami", "?status=abc", "?status=700", "?since=yesterday"} {
		s.do("GET", "/_mock/requests"+bad, "").wantError(t, 400002)
	}
	s.do("DELETE", "/_mock/requests", "").wantOK(t)
	if n := len(s.Requests()); n != 0 {
		t.Fatalf("%d entries after DELETE", n)
	}
	if n := len(s.Sessions()); n != 1 {
		t.Fatalf("clearing the journal touched the sessions: %d", n)
	}
}

// GET /_mock/ lists the control plane's routes, and each one it lists is
// served.
func TestControlIndex(t *testing.T) {
	t.Parallel()
	s := start(t)
	for _, path := range []string{"/_mock", "/_mock/"} {
		a := s.do("GET", path, "")
		a.wantOK(t)
		var idx struct{ Routes []mock.ControlRoute }
		if err := json.Unmarshal(a.env.Result, &idx); err != nil || len(idx.Routes) != len(mock.ControlRoutes()) {
			t.Fatalf("%s: %s", path, a.raw)
		}
	}
	for _, r := range mock.ControlRoutes() {
		path := strings.ReplaceAll(r.Path, "{id}", "x")
		body := ""
		if r.Method == "POST" {
			body = "{}"
		}
		a := s.do(r.Method, path, body)
		if a.status == 404 && a.env.Error.Code == 404000 || a.status == 405 {
			t.Errorf("%s %s is listed but answers %s", r.Method, r.Path, a.raw)
		}
	}
}

// GET /_mock/ lists every control-plane operation of the OpenAPI document,
// and nothing it does not describe.
func TestControlIndexIsComplete(t *testing.T) {
	t.Parallel()
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	norm := func(p string) string { return strings.TrimSuffix(p, "/") }
	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		if !strings.HasPrefix(path, mock.ControlPath) {
			continue
		}
		for method := range item.Operations() {
			documented[method+" "+norm(path)] = true
		}
	}
	listed := map[string]bool{}
	for _, r := range mock.ControlRoutes() {
		listed[r.Method+" "+norm(r.Path)] = true
	}
	for op := range documented {
		if !listed[op] {
			t.Errorf("%s is in api/openapi.yaml but not in GET /_mock/", op)
		}
	}
	for op := range listed {
		if !documented[op] {
			t.Errorf("GET /_mock/ lists %s, which api/openapi.yaml does not describe", op)
		}
	}
}

// What a control route does not read is refused, naming it, rather than
// ignored: a query on a route without parameters, members in the body of a
// route that reads none.
func TestControlRefusesWhatItWouldIgnore(t *testing.T) {
	t.Parallel()
	s := start(t)
	for _, tt := range []struct{ method, path, body, field string }{
		{"POST", "/_mock/reset", `{"keep":"accounts"}`, "keep"},
		{"POST", "/_mock/tenants", `{"name":"ci-1"}`, "name"},
		{"DELETE", "/_mock/faults", `{"id":"f1"}`, "id"},
		{"GET", "/_mock/accounts?username=john@API", "", "username"},
		{"GET", "/_mock/sessions?user=john@API", "", "user"},
		{"GET", "/_mock/clock?tz=UTC", "", "tz"},
		{"POST", "/_mock/clock?advance=1h", `{"advance":"1m"}`, "advance"},
	} {
		a := s.do(tt.method, tt.path, tt.body)
		a.wantError(t, mock.CodeInvalidField)
		if !strings.Contains(a.env.Error.Message, fmt.Sprintf("%q", tt.field)) {
			t.Errorf("%s %s: %q does not name %q", tt.method, tt.path, a.env.Error.Message, tt.field)
		}
	}
	if len(s.Accounts()) != 1 {
		t.Fatal("the refused reset ran")
	}
	// No body, or an empty object, is fine where no body is read.
	s.do("POST", "/_mock/reset", "").wantOK(t)
	s.do("POST", "/_mock/reset", "{}").wantOK(t)
}
