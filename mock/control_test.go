package mock_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dyor-exchange/dyorctl/api"
	"github.com/dyor-exchange/dyorctl/mock"
)

func TestControlAccounts(t *testing.T) {
	t.Parallel()
	s := start(t)
	a := s.do("POST", "/_mock/accounts", credsJSON("alice", "password1"))
	a.wantOK(t)
	var added mock.Account
	if err := json.Unmarshal(a.env.Result, &added); err != nil || added.Username != "alice" || added.ID == "" {
		t.Fatalf("added = %s", a.env.Result)
	}
	s.do("POST", "/_mock/accounts", credsJSON("alice", "password1")).wantError(t, 409001)
	s.do("POST", "/_mock/accounts", credsJSON("al", "password1")).wantError(t, 400002)
	s.login("alice", "password1")

	var list struct{ Accounts []mock.Account }
	a = s.do("GET", "/_mock/accounts", "")
	a.wantOK(t)
	if err := json.Unmarshal(a.env.Result, &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Accounts) != 2 || list.Accounts[0].Username != "alice" || list.Accounts[1].Username != "john@API" {
		t.Fatalf("accounts = %+v", list.Accounts)
	}
	// Go side: the same.
	if _, err := s.AddAccount("bob", "short"); !isCode(err, 400002) {
		t.Fatalf("AddAccount with a short password: %v", err)
	}
	if _, err := s.AddAccount("bob", "password2"); err != nil {
		t.Fatal(err)
	}
	if n := len(s.Accounts()); n != 3 {
		t.Fatalf("%d accounts", n)
	}
}

func TestControlSessions(t *testing.T) {
	t.Parallel()
	s := start(t)
	p := s.login("john@API", "honeyBunnies")
	sid := claimsOf(t, p.Access)["sid"].(string)

	var list struct{ Sessions []mock.Session }
	a := s.do("GET", "/_mock/sessions", "")
	a.wantOK(t)
	if err := json.Unmarshal(a.env.Result, &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Sessions) != 1 || list.Sessions[0].ID != sid || list.Sessions[0].Username != "john@API" ||
		!list.Sessions[0].ExpiresAt.Equal(list.Sessions[0].CreatedAt.Add(mock.DefaultRefreshTTL)) {
		t.Fatalf("sessions = %+v", list.Sessions)
	}

	// Mint a session that expires in 1s, without the password.
	a = s.do("POST", "/_mock/sessions", `{"username":"john@API","access_ttl":"1s","refresh_ttl":"1h"}`)
	a.wantOK(t)
	var minted struct {
		SessionID string `json:"session_id"`
		Token     struct{ Access, Refresh string }
	}
	if err := json.Unmarshal(a.env.Result, &minted); err != nil {
		t.Fatal(err)
	}
	c := claimsOf(t, minted.Token.Access)
	if c["sid"] != minted.SessionID || c["exp"].(float64)-c["iat"].(float64) != 1 {
		t.Fatalf("minted claims = %v", c)
	}
	if err := s.Advance(2 * time.Second); err != nil {
		t.Fatal(err)
	}
	s.logout(minted.Token.Access).wantError(t, 401003)
	s.refresh(minted.Token.Refresh).wantOK(t)

	s.do("POST", "/_mock/sessions", `{"username":"nobody"}`).wantError(t, 404001)
	s.do("POST", "/_mock/sessions", `{"username":"john@API","access_ttl":"soon"}`).wantError(t, 400002)
	s.do("POST", "/_mock/sessions", `{}`).wantError(t, 400002)

	// Revoke: the session's tokens stop working.
	s.do("DELETE", "/_mock/sessions/"+sid, "").wantOK(t)
	s.refresh(p.Refresh).wantError(t, 401004)
	s.do("DELETE", "/_mock/sessions/"+sid, "").wantError(t, 404002)
	if err := s.RevokeSession("nope"); !isCode(err, 404002) {
		t.Fatalf("RevokeSession(unknown) = %v", err)
	}
	if _, err := s.MintSession("nobody", 0, 0); !isCode(err, 404001) {
		t.Fatalf("MintSession(unknown) = %v", err)
	}
}

func TestControlClock(t *testing.T) {
	t.Parallel()
	base := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	s := start(t, mock.WithClock(func() time.Time { return base }))
	var clock struct{ Now time.Time }
	a := s.do("GET", "/_mock/clock", "")
	a.wantOK(t)
	_ = json.Unmarshal(a.env.Result, &clock)
	if !clock.Now.Equal(base) {
		t.Fatalf("now = %v, want %v", clock.Now, base)
	}
	p := s.login("john@API", "honeyBunnies")
	if iat := claimsOf(t, p.Access)["iat"].(float64); int64(iat) != base.Unix() {
		t.Fatalf("iat %v is not on the server's clock", iat)
	}
	a = s.do("POST", "/_mock/clock", `{"advance":"16m"}`)
	a.wantOK(t)
	_ = json.Unmarshal(a.env.Result, &clock)
	if !clock.Now.Equal(base.Add(16 * time.Minute)) {
		t.Fatalf("after advance now = %v", clock.Now)
	}
	// Past the access TTL: the access token is expired, refresh works.
	s.logout(p.Access).wantError(t, 401003)
	s.refresh(p.Refresh).wantOK(t)
	for _, bad := range []string{`{"advance":"-1m"}`, `{"advance":"0s"}`, `{"advance":"soon"}`, `{"advance":16}`, `{}`, `{"advance":"100000h"}`} {
		s.do("POST", "/_mock/clock", bad).wantError(t, 400002)
	}
	if err := s.Advance(-time.Second); !isCode(err, 400002) {
		t.Fatalf("Advance(-1s) = %v", err)
	}
}

func TestControlFaults(t *testing.T) {
	t.Parallel()
	s := start(t)
	a := s.do("POST", "/_mock/faults", `{"route":"login","status":503,"times":2}`)
	a.wantOK(t)
	right := credsJSON("john@API", "honeyBunnies")
	s.do("POST", mock.LoginPath, right).wantError(t, 503000)
	var list struct{ Faults []map[string]any }
	a = s.do("GET", "/_mock/faults", "")
	a.wantOK(t)
	_ = json.Unmarshal(a.env.Result, &list)
	if len(list.Faults) != 1 || list.Faults[0]["times"].(float64) != 2 || list.Faults[0]["remaining"].(float64) != 1 {
		t.Fatalf("faults after one firing = %v", list.Faults)
	}
	s.do("POST", mock.LoginPath, right).wantError(t, 503000)
	s.do("POST", mock.LoginPath, right).wantOK(t)
	if n := len(s.Faults()); n != 0 {
		t.Fatalf("a used-up rule stayed: %d rules", n)
	}
	// The fault fires before any other check: even a bad request gets it.
	s.do("POST", "/_mock/faults", `{"route":"register","status":429}`).wantOK(t)
	s.do("POST", mock.RegisterPath, `not json`).wantError(t, 429000)
	s.do("DELETE", "/_mock/faults", "").wantOK(t)
	s.do("POST", mock.RegisterPath, `not json`).wantError(t, 400001)

	for _, bad := range []string{
		`{"route":"whoami","status":503}`,
		`{"status":503}`,
		`{"route":"login","status":200}`,
		`{"route":"login","status":503,"drop":true}`,
		`{"route":"login"}`,
		`{"route":"login","delay":"-1s"}`,
		`{"route":"login","status":503,"probability":1.5}`,
		`{"route":"login","status":503,"times":-1}`,
		`{"route":"login","status":"503"}`,
	} {
		s.do("POST", "/_mock/faults", bad).wantError(t, 400002)
	}
}

func TestFaultDropAndTruncate(t *testing.T) {
	t.Parallel()
	s := mock.Start(t, mock.WithBcryptCost(4))
	if err := s.AddFault(mock.Fault{Route: "login", Drop: true, Times: 1}); err != nil {
		t.Fatal(err)
	}
	body := credsJSON("john@API", "honeyBunnies")
	_, err := http.Post(s.URL+mock.LoginPath, "application/json", strings.NewReader(body))
	if err == nil {
		t.Fatal("a dropped connection gave an answer")
	}
	if err := s.AddFault(mock.Fault{Route: "login", Truncate: true, Times: 1}); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(s.URL+mock.LoginPath, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	// The answer is cut cleanly: the first half of what Content-Length
	// announced, then the connection closes.
	if !errors.Is(err, io.ErrUnexpectedEOF) || int64(len(got)) != resp.ContentLength/2 ||
		!strings.HasPrefix(string(got), `{"ok":true,"result":{"token":{"access":"ey`) {
		t.Fatalf("truncated answer: %d of %d bytes, %v: %.60q", len(got), resp.ContentLength, err, got)
	}
	// The truncated login did take effect on the server, as a lost answer would.
	if n := len(s.Sessions()); n != 1 {
		t.Fatalf("%d sessions after the truncated login", n)
	}
	journal := s.Requests()
	if len(journal) != 2 || journal[0].Status != 0 || journal[1].Status != 200 {
		t.Fatalf("journal = %+v", journal)
	}
}

// A delayed request does not hold up other requests.
func TestFaultDelayDoesNotBlockOthers(t *testing.T) {
	t.Parallel()
	s := start(t)
	if err := s.AddFault(mock.Fault{Route: "login", Delay: 5 * time.Minute, Times: 1}); err != nil {
		t.Fatal(err)
	}
	p, err := s.MintSession("john@API", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	delayed := make(chan error, 1)
	go func() {
		resp, err := http.Post(s.URL+mock.LoginPath, "application/json", strings.NewReader(credsJSON("john@API", "honeyBunnies")))
		if err == nil {
			resp.Body.Close()
		}
		delayed <- err
	}()
	// The rule is used up when it fires: then the login is waiting.
	deadline := time.Now().Add(10 * time.Second)
	for len(s.Faults()) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the delayed login never reached the server")
		}
		runtime.Gosched()
	}
	for range 20 {
		a := s.refresh(p.Refresh)
		a.wantOK(t)
		p.Refresh = a.pair(t).Refresh
	}
	select {
	case err := <-delayed:
		t.Fatalf("the delayed login answered early: %v", err)
	default:
	}
	// Close (at cleanup) cuts the delay short: the test does not wait.
}

func TestFaultDelayThenNormalAnswer(t *testing.T) {
	t.Parallel()
	s := start(t)
	if err := s.AddFault(mock.Fault{Route: "refresh", Delay: 50 * time.Millisecond, Times: 1}); err != nil {
		t.Fatal(err)
	}
	p := s.login("john@API", "honeyBunnies")
	startAt := time.Now()
	s.refresh(p.Refresh).wantOK(t)
	if d := time.Since(startAt); d < 50*time.Millisecond {
		t.Fatalf("the delay rule did not delay: %v", d)
	}
}

func TestFaultProbability(t *testing.T) {
	t.Parallel()
	s := start(t)
	if err := s.AddFault(mock.Fault{Route: "logout", Status: 502, Probability: 0.5}); err != nil {
		t.Fatal(err)
	}
	failed := 0
	for range 200 {
		a := s.do("DELETE", mock.LogoutPath, "")
		if a.status == 502 {
			failed++
		} else {
			a.wantError(t, 401001)
		}
	}
	// 200 draws at p=0.5: outside [40, 160] has a chance below 1e-17.
	if failed < 40 || failed > 160 {
		t.Fatalf("%d of 200 fired at probability 0.5", failed)
	}
}

func TestJournal(t *testing.T) {
	t.Parallel()
	s := start(t, mock.WithJournalSize(5))
	p := s.login("john@API", "honeyBunnies")
	s.do("POST", mock.LoginPath, credsJSON("john@API", "wrong-password")).wantError(t, 401005)
	s.do("GET", "/_mock/accounts", "").wantOK(t) // not journaled
	s.do("GET", "/healthz", "").wantOK(t)        // not journaled
	a := s.do("GET", "/_mock/requests", "")
	a.wantOK(t)
	var j struct{ Requests []mock.Request }
	if err := json.Unmarshal(a.env.Result, &j); err != nil {
		t.Fatal(err)
	}
	if len(j.Requests) != 2 || j.Requests[0].Status != 200 || j.Requests[0].Code != 0 ||
		j.Requests[1].Status != 401 || j.Requests[1].Code != 401005 || j.Requests[1].Path != mock.LoginPath {
		t.Fatalf("journal = %+v", j.Requests)
	}
	// Bounded: the last 5, oldest first.
	for range 7 {
		s.refresh("nope")
	}
	got := s.Requests()
	if len(got) != 5 {
		t.Fatalf("journal holds %d, bound is 5", len(got))
	}
	for _, r := range got {
		if r.Path != mock.RefreshPath || r.Code != 401002 {
			t.Fatalf("journal after wrapping = %+v", got)
		}
	}
	raw, _ := json.Marshal(got)
	for _, secret := range []string{p.Access, p.Refresh, p.Access[40:56], "honeyBunnies", "wrong-password"} {
		if strings.Contains(string(raw)+a.raw, secret) {
			t.Fatalf("journal holds a secret %q", secret)
		}
	}
}

func TestReset(t *testing.T) {
	t.Parallel()
	s := start(t, mock.WithLockout(1, time.Hour))
	p := s.login("john@API", "honeyBunnies")
	s.do("POST", "/_mock/accounts", credsJSON("alice", "password1")).wantOK(t)
	s.do("POST", mock.LoginPath, credsJSON("alice", "wrong-password")).wantError(t, 401005)
	_ = s.AddFault(mock.Fault{Route: "refresh", Status: 503})
	_ = s.Advance(time.Hour)
	s.do("POST", "/_mock/reset", "").wantOK(t)

	if acc := s.Accounts(); len(acc) != 1 || acc[0].Username != "john@API" {
		t.Fatalf("accounts after reset = %+v", acc)
	}
	if len(s.Sessions()) != 0 || len(s.Faults()) != 0 || len(s.Requests()) != 0 {
		t.Fatalf("reset left sessions %v faults %v journal %v", s.Sessions(), s.Faults(), s.Requests())
	}
	if d := time.Since(s.Now()); d > time.Minute || d < -time.Minute {
		t.Fatalf("clock after reset is %v off", d)
	}
	s.refresh(p.Refresh).wantError(t, 401004)
	// The seed login works again, and alice is gone.
	s.login("john@API", "honeyBunnies")
	s.do("POST", mock.LoginPath, credsJSON("alice", "password1")).wantError(t, 404001)
}

func TestControlUnknownAndMethods(t *testing.T) {
	t.Parallel()
	s := start(t)
	s.do("GET", "/_mock/whatever", "").wantError(t, 404000)
	s.do("PUT", "/_mock/accounts", "{}").wantError(t, 405000)
	s.do("GET", "/_mock/reset", "").wantError(t, 405000)
	s.do("POST", "/_mock/requests", "{}").wantError(t, 405000)
	s.do("GET", "/_mock/sessions/abc", "").wantError(t, 405000)
}

// Parallel tests each get their own server: no state is shared.
func TestParallelServersAreIndependent(t *testing.T) {
	t.Parallel()
	for i := range 8 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			s := start(t, mock.WithNoSeed())
			name := fmt.Sprintf("user-%d", i)
			s.do("POST", mock.RegisterPath, credsJSON(name, "password1")).wantOK(t)
			p := s.login(name, "password1")
			if acc := s.Accounts(); len(acc) != 1 || acc[0].Username != name {
				t.Fatalf("accounts = %+v", acc)
			}
			if err := s.Advance(time.Duration(i+1) * time.Hour); err != nil {
				t.Fatal(err)
			}
			if d := time.Until(s.Now()); d < time.Duration(i+1)*time.Hour-time.Minute {
				t.Fatalf("clock moved by %v", d)
			}
			s.refresh(p.Refresh).wantOK(t)
		})
	}
}

func isCode(err error, code api.Code) bool {
	var e *mock.Error
	return errors.As(err, &e) && e.Code == code && e.Status == code.Status()
}

var _ sync.Locker = (*sync.Mutex)(nil)

// A session ends with its refresh token, even when a minted access token
// would outlive it.
func TestSessionEndsWithItsRefreshToken(t *testing.T) {
	t.Parallel()
	var s *testServer
	var offset atomic.Int64
	s = start(t, mock.WithClock(func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }))
	m, err := s.MintSession("john@API", time.Hour, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	offset.Store(int64(2 * time.Minute)) // the base clock moves; no sweep has run
	if n := len(s.Sessions()); n != 0 {
		t.Fatalf("an expired session is listed: %d", n)
	}
	s.logout(m.Access).wantError(t, 401004)
	if err := s.RevokeSession(m.SessionID); !isCode(err, 404002) {
		t.Fatalf("RevokeSession of an expired session = %v", err)
	}
}
