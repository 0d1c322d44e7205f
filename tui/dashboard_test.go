package tui

import (
	"fmt"
	"io"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/dyor-exchange/dyorctl/client"
)

// clock is a clock the test moves by hand.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

// shownDashboard is the dashboard for testSession at fixedNow, and its clock.
func shownDashboard(t *testing.T) (*dashboardModel, *clock) {
	t.Helper()
	c := &clock{now: fixedNow}
	d := testDeps(fixedNow)
	d.now = c.Now
	m := newDashboard(d)
	m.setSize(80, 19)
	if cmd := m.show(testSession(), ""); cmd == nil {
		t.Fatal("show started no tick loop")
	}
	return m, c
}

func TestDashboardView(t *testing.T) {
	t.Parallel()
	m, _ := shownDashboard(t)
	v := m.view(80, 0)
	for _, want := range []string{
		"Username  john@API",
		"Server    " + testServer,
		"Session   9d1c5e2a7b3f4e6d8c0a1b2c3d4e5f60",
		"access expires in 14m 32s",
		"refresh expires in 6d 23h 59m",
		"auto-refresh: off",
	} {
		if !strings.Contains(v, want) {
			t.Errorf("no %q in\n%s", want, v)
		}
	}
}

func TestDashboardKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		keys     []string
		busy     string
		auto     bool
		fullHelp bool
		quit     bool
	}{
		{keys: []string{"r"}, busy: refreshing},
		{keys: []string{"r", "r", "l"}, busy: refreshing}, // ignored while busy
		{keys: []string{"l"}, busy: loggingOut},
		{keys: []string{"l", "r"}, busy: loggingOut},
		{keys: []string{"a"}, auto: true},
		{keys: []string{"a", "a"}},
		{keys: []string{"?"}, fullHelp: true},
		{keys: []string{"?", "?"}},
		{keys: []string{"q"}, quit: true},
		{keys: []string{"x", "enter", "esc"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.keys), func(t *testing.T) {
			t.Parallel()
			m, _ := shownDashboard(t)
			quit := false
			for _, k := range tt.keys {
				var cmd tea.Cmd
				cmd, _ = m.update(keyMsg(k))
				if k == "q" {
					quit = isQuit(cmd)
				}
			}
			if m.busy != tt.busy || m.auto != tt.auto || m.fullHelp != tt.fullHelp || quit != tt.quit {
				t.Errorf("busy %q auto %v fullHelp %v quit %v, want %q %v %v %v",
					m.busy, m.auto, m.fullHelp, quit, tt.busy, tt.auto, tt.fullHelp, tt.quit)
			}
			if v := m.view(80, 0); !strings.Contains(v, "auto-refresh: "+onOff(tt.auto)) {
				t.Errorf("view:\n%s", v)
			}
		})
	}
}

func TestDashboardTick(t *testing.T) {
	t.Parallel()
	m, c := shownDashboard(t)

	c.now = fixedNow.Add(2 * time.Second)
	cmd, _ := m.update(dashboardTickMsg{id: m.tickID - 1})
	if cmd != nil || strings.Contains(m.view(80, 0), "14m 30s") {
		t.Fatal("a tick of an old loop was handled")
	}
	cmd, _ = m.update(dashboardTickMsg{id: m.tickID})
	if cmd == nil {
		t.Fatal("the tick loop stopped")
	}
	if v := m.view(80, 0); !strings.Contains(v, "access expires in 14m 30s") || !strings.Contains(v, "refresh expires in 6d 23h 59m") {
		t.Errorf("countdowns not updated:\n%s", v)
	}

	c.now = testSession().AccessExpiresAt.Add(time.Second)
	m.update(dashboardTickMsg{id: m.tickID})
	if v := m.view(80, 0); !strings.Contains(v, "access expired") {
		t.Errorf("no expiry shown:\n%s", v)
	}

	c.now = testSession().RefreshExpiresAt
	cmd, to := m.update(dashboardTickMsg{id: m.tickID})
	want := toForm{kind: loginForm, server: testServer, username: "john@API",
		note: "the session of john@API has expired: log in again", isError: true}
	if to != want || cmd != nil {
		t.Errorf("refresh token expired: to %#v, cmd %v", to, cmd != nil)
	}
}

func TestDashboardShowRestartsTheLoop(t *testing.T) {
	t.Parallel()
	m, _ := shownDashboard(t)
	old := m.tickID
	m.show(testSession(), "")
	if _, cmd := m.update(dashboardTickMsg{id: old}); cmd != nil {
		t.Error("the old loop goes on beside the new one")
	}
}

func TestDashboardAutoRefresh(t *testing.T) {
	t.Parallel()
	exp := testSession().AccessExpiresAt
	tests := []struct {
		name    string
		auto    bool
		at      time.Time
		tried   bool // already tried for this token
		refresh bool
	}{
		{"off", false, exp.Add(-10 * time.Second), false, false},
		{"far from expiry", true, exp.Add(-31 * time.Second), false, false},
		{"within 30s", true, exp.Add(-30 * time.Second), false, true},
		{"expired already", true, exp.Add(time.Second), false, true},
		{"once per token", true, exp.Add(-10 * time.Second), true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, c := shownDashboard(t)
			if tt.auto {
				m.update(keyMsg("a"))
			}
			if tt.tried {
				m.autoTried = m.tokenKey()
			}
			c.now = tt.at
			m.update(dashboardTickMsg{id: m.tickID})
			if got := m.busy == refreshing; got != tt.refresh {
				t.Errorf("refreshing = %v, want %v", got, tt.refresh)
			}
		})
	}
}

func TestDashboardAutoRefreshOncePerToken(t *testing.T) {
	t.Parallel()
	m, c := shownDashboard(t)
	m.update(keyMsg("a"))
	c.now = testSession().AccessExpiresAt.Add(-10 * time.Second)
	m.update(dashboardTickMsg{id: m.tickID})
	if m.busy != refreshing {
		t.Fatal("no auto-refresh")
	}
	// Still in flight: no second refresh.
	c.now = c.now.Add(time.Second)
	m.update(dashboardTickMsg{id: m.tickID})
	// It fails: not tried again for the same token.
	m.update(refreshResultMsg{auto: true, err: &url.Error{Op: "Get", URL: "x", Err: syscall.ECONNREFUSED}})
	if m.busy != idle || !strings.Contains(m.err, "cannot reach the server") {
		t.Fatalf("after a failure: busy %q err %q", m.busy, m.err)
	}
	c.now = c.now.Add(time.Second)
	m.update(dashboardTickMsg{id: m.tickID})
	if m.busy != idle {
		t.Fatal("auto-refresh tried the same token again")
	}
	// A new token (here from r): auto-refresh watches it.
	m.update(keyMsg("r"))
	next := testSession()
	next.SessionID = "another"
	next.AccessIssuedAt = c.now.Add(-14*time.Minute - 40*time.Second)
	next.AccessExpiresAt = c.now.Add(20 * time.Second)
	m.update(refreshResultMsg{session: next})
	m.update(dashboardTickMsg{id: m.tickID})
	if m.busy != refreshing {
		t.Error("no auto-refresh for the new token")
	}
}

func TestDashboardResults(t *testing.T) {
	t.Parallel()
	netErr := &url.Error{Op: "Get", URL: "x", Err: syscall.ECONNREFUSED}
	next := testSession()
	next.SessionID = "0123456789abcdef"
	next.Username = ""
	tests := []struct {
		name    string
		key     string
		msg     tea.Msg
		to      navigation
		err     string
		note    string
		session string
	}{
		{"refreshed", "r", refreshResultMsg{session: next}, nil, "", "session refreshed", "0123456789abcdef"},
		{"refreshed automatically", "r", refreshResultMsg{session: next, auto: true}, nil, "", "session refreshed automatically", "0123456789abcdef"},
		{"session invalid", "r", refreshResultMsg{err: fmt.Errorf("refresh: %w", client.ErrSessionInvalid)}, toForm{kind: loginForm, server: testServer, username: "john@API", note: "the server no longer accepts the session of john@API (it was revoked or replaced elsewhere): log in again", isError: true}, "", "", ""},
		{"logged out elsewhere", "r", refreshResultMsg{err: client.ErrNotLoggedIn}, toForm{kind: loginForm, server: testServer, username: "john@API", note: "the session of john@API was logged out elsewhere: log in again", isError: true}, "", "", ""},
		{"network", "r", refreshResultMsg{err: netErr}, nil, "cannot reach the server: connection refused", "", ""},
		{"logged out", "l", logoutResultMsg{}, toHome{note: "logged out"}, "", "", ""},
		{"logout unreachable", "l", logoutResultMsg{err: netErr}, toHome{note: "logged out locally; the server could not be reached", isError: true}, "", "", ""},
		{"logout unknown session", "l", logoutResultMsg{err: client.ErrSessionInvalid}, toHome{note: "logged out (the server had already ended the session)"}, "", "", ""},
		{"logout 5xx", "l", logoutResultMsg{err: &client.APIError{Status: 500, Code: 500000, Message: "boom"}}, toHome{note: "logged out locally; the server failed: " + (&client.APIError{Status: 500, Code: 500000, Message: "boom"}).Error(), isError: true}, "", "", ""},
		{"result not asked for", "a", refreshResultMsg{session: next}, nil, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, _ := shownDashboard(t)
			m.update(keyMsg(tt.key))
			_, to := m.update(tt.msg)
			if to != tt.to {
				t.Errorf("to = %#v, want %#v", to, tt.to)
			}
			if m.err != tt.err || m.note != tt.note {
				t.Errorf("err %q note %q, want %q %q", m.err, m.note, tt.err, tt.note)
			}
			if tt.session != "" {
				if m.session.SessionID != tt.session || m.session.Username != "john@API" {
					t.Errorf("session %+v", m.session)
				}
			}
			if tt.to == nil && tt.key != "a" && m.busy != idle {
				t.Errorf("still busy: %q", m.busy)
			}
		})
	}
}

func TestRefreshLead(t *testing.T) {
	t.Parallel()
	at := func(lifetime time.Duration) session {
		return session{AccessIssuedAt: fixedNow, AccessExpiresAt: fixedNow.Add(lifetime)}
	}
	tests := []struct {
		s    session
		want time.Duration
	}{
		{at(15 * time.Minute), 30 * time.Second},
		{at(2 * time.Minute), 12 * time.Second},
		{at(10 * time.Second), 5 * time.Second},
		{session{AccessExpiresAt: fixedNow}, 30 * time.Second},
	}
	for _, tt := range tests {
		if got := refreshLead(tt.s); got != tt.want {
			t.Errorf("refreshLead(%v) = %v, want %v", tt.s.AccessExpiresAt.Sub(tt.s.AccessIssuedAt), got, tt.want)
		}
	}
}

func TestCountdown(t *testing.T) {
	t.Parallel()
	tests := []struct {
		expires time.Time
		want    string
	}{
		{fixedNow.Add(14*time.Minute + 32*time.Second + 900*time.Millisecond), "expires in 14m 32s"},
		{fixedNow.Add(2*time.Hour + 5*time.Minute), "expires in 2h 5m"}, // as the CLI writes it
		{fixedNow.Add(500 * time.Millisecond), "expires in 0s"},
		{fixedNow, "expired"},
		{fixedNow.Add(-time.Hour), "expired"},
	}
	for _, tt := range tests {
		if got := countdown(tt.expires, fixedNow); got != tt.want {
			t.Errorf("countdown(now%+v) = %q, want %q", tt.expires.Sub(fixedNow), got, tt.want)
		}
	}
}

func TestNextTick(t *testing.T) {
	t.Parallel()
	tests := []struct{ remaining, want time.Duration }{
		{14*time.Minute + 32*time.Second, time.Second},
		{14*time.Minute + 32*time.Second + 300*time.Millisecond, 320 * time.Millisecond},
		{-time.Minute, time.Second},
		{-300 * time.Millisecond, 720 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := nextTick(tt.remaining); got != tt.want {
			t.Errorf("nextTick(%v) = %v, want %v", tt.remaining, got, tt.want)
		}
	}
}

// historyLines are the history pane's events as shown, without their times.
func historyLines(m *dashboardModel) []string {
	var out []string
	for _, e := range m.history {
		out = append(out, e.text)
	}
	return out
}

func TestDashboardHistory(t *testing.T) {
	t.Parallel()
	m, c := shownDashboard(t)
	m.show(testSession(), "logged in as john@API")
	m.update(keyMsg("r"))
	m.update(refreshResultMsg{session: testSession()})
	c.now = c.now.Add(time.Minute)
	m.update(keyMsg("r"))
	m.update(refreshResultMsg{session: testSession(), auto: true})
	m.update(keyMsg("r"))
	m.update(refreshResultMsg{err: &client.APIError{Status: 503, Code: 503000, Message: "fault"}})
	want := []string{"logged in as john@API", "refreshed by hand", "auto-refreshed", "refresh failed: the server failed: " + (&client.APIError{Status: 503, Code: 503000, Message: "fault"}).Error()}
	if got := historyLines(m); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("history %q, want %q", got, want)
	}
	v := m.view(80, 19)
	for _, line := range []string{"03:04:05 logged in as john@API", "03:04:05 refreshed by hand", "03:05:05 auto-refreshed", "03:05:05 refresh failed: the server failed"} {
		if !strings.Contains(v, line) {
			t.Errorf("no %q in\n%s", line, v)
		}
	}
	// The history outlives the dashboard's showing: it is the run's.
	m.show(testSession(), "")
	if len(m.history) != 4 {
		t.Errorf("history after show: %q", historyLines(m))
	}
}

func TestDashboardHistoryScrolls(t *testing.T) {
	t.Parallel()
	m, _ := shownDashboard(t) // a pane of 8 lines
	for i := range 20 {
		m.record(fmt.Sprintf("event %02d", i))
	}
	v := m.view(80, 19)
	if !strings.Contains(v, "event 19") || strings.Contains(v, "event 11") {
		t.Fatalf("the pane does not show the last events:\n%s", v)
	}
	m.update(keyMsg("pgup"))
	if v := m.view(80, 19); strings.Contains(v, "event 19") || !strings.Contains(v, "event 11") {
		t.Errorf("pgup did not scroll up:\n%s", v)
	}
	m.update(keyMsg("down"))
	m.update(keyMsg("j"))
	if v := m.view(80, 19); !strings.Contains(v, "event 13") {
		t.Errorf("down and j did not scroll down:\n%s", v)
	}
	// A new event scrolls to it.
	m.record("event 20")
	if v := m.view(80, 19); !strings.Contains(v, "event 20") {
		t.Errorf("the new event is not shown:\n%s", v)
	}
	for i := range historyLimit {
		m.record(fmt.Sprint("more ", i))
	}
	if len(m.history) != historyLimit {
		t.Errorf("history keeps %d events", len(m.history))
	}
}

// TestDashboardAutoRefreshBacksOff: with auto-refresh on, a refresh that
// fails for a reason that may pass is tried again later, each time later,
// and the user stays logged in; a manual one is not, and a refusal is not.
func TestDashboardAutoRefreshBacksOff(t *testing.T) {
	t.Parallel()
	netErr := &url.Error{Op: "Post", URL: "x", Err: syscall.ECONNREFUSED}
	m, c := shownDashboard(t)
	m.update(keyMsg("a"))
	c.now = testSession().AccessExpiresAt.Add(-10 * time.Second)
	m.update(dashboardTickMsg{id: m.tickID})
	for i, wait := range []string{"1s", "2s", "4s", "8s", "16s", "30s", "30s"} {
		if m.busy != refreshing {
			t.Fatalf("try %d: not refreshing", i)
		}
		cmd, to := m.update(refreshResultMsg{auto: true, err: netErr})
		if to != nil || cmd == nil {
			t.Fatalf("try %d: to %#v, no retry", i, to)
		}
		last := m.history[len(m.history)-1].text
		if want := "refresh failed: cannot reach the server: connection refused; retrying in " + wait; last != want {
			t.Fatalf("try %d: history says %q, want %q", i, last, want)
		}
		m.update(retryRefreshMsg{id: m.tickID, gen: m.retryGen})
	}
	// A success starts the back-off again.
	m.update(refreshResultMsg{session: testSession(), auto: true})
	if m.retries != 0 || m.history[len(m.history)-1].text != "auto-refreshed" {
		t.Errorf("after a success: retries %d, %q", m.retries, m.history[len(m.history)-1].text)
	}
	// A retry for an earlier showing, an earlier run of failures (here
	// ended by the success), or once auto-refresh is off, does nothing.
	m.update(retryRefreshMsg{id: m.tickID - 1, gen: m.retryGen})
	m.update(retryRefreshMsg{id: m.tickID, gen: m.retryGen - 1})
	if m.busy != idle {
		t.Error("a stale retry refreshed")
	}
	m.update(keyMsg("a"))
	m.update(retryRefreshMsg{id: m.tickID, gen: m.retryGen})
	if m.busy != idle {
		t.Error("a retry with auto-refresh off refreshed")
	}
	// By hand: no retry. Refused (4xx): no retry either.
	m.update(keyMsg("a"))
	m.update(keyMsg("r"))
	if cmd, _ := m.update(refreshResultMsg{err: netErr}); cmd != nil {
		t.Error("a manual refresh is retried")
	}
	m.update(keyMsg("r"))
	if cmd, _ := m.update(refreshResultMsg{auto: true, err: &client.APIError{Status: 429, Code: 429000, Message: "slow down"}}); cmd != nil {
		t.Error("a refused refresh is retried")
	}
}

func TestBackoffDelay(t *testing.T) {
	t.Parallel()
	b := backoff{first: time.Second, most: 30 * time.Second}
	for n, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second} {
		if got := b.delay(n); got != want {
			t.Errorf("delay(%d) = %v, want %v", n, got, want)
		}
	}
	if got := b.delay(1000); got != 30*time.Second {
		t.Errorf("delay(1000) = %v", got)
	}
}

// barCells counts the filled cells of the bar on the line of label.
func barCells(t *testing.T, view, label string) int {
	t.Helper()
	for _, l := range strings.Split(view, "\n") {
		if strings.Contains(l, label+" ") {
			return strings.Count(l, "█")
		}
	}
	t.Fatalf("no %s line in\n%s", label, view)
	return 0
}

func TestDashboardBarsShrink(t *testing.T) {
	t.Parallel()
	m, c := shownDashboard(t)
	// 14m 32s of 15m left: 39 of 40 cells; the refresh token's nearly whole.
	v := m.view(80, 19)
	if a, r := barCells(t, v, "access"), barCells(t, v, "refresh"); a != 39 || r != 40 {
		t.Fatalf("bars at the start: access %d, refresh %d cells\n%s", a, r, v)
	}
	c.now = fixedNow.Add(7 * time.Minute)
	m.update(dashboardTickMsg{id: m.tickID})
	if a := barCells(t, m.view(80, 19), "access"); a != 20 {
		t.Errorf("access bar at half its life: %d cells", a)
	}
	c.now = testSession().AccessExpiresAt
	m.update(dashboardTickMsg{id: m.tickID})
	if a := barCells(t, m.view(80, 19), "access"); a != 0 {
		t.Errorf("access bar at expiry: %d cells", a)
	}
	// Narrower screens, narrower bars; none where there is no room.
	if a := barCells(t, m.view(60, 15), "refresh"); a == 0 || a >= 40 {
		t.Errorf("refresh bar at 60 columns: %d cells", a)
	}
	if a := barCells(t, m.view(35, 15), "refresh"); a != 0 {
		t.Errorf("a bar at 35 columns: %d cells", a)
	}
}

func TestLifetime(t *testing.T) {
	t.Parallel()
	iat := fixedNow
	exp := fixedNow.Add(100 * time.Second)
	tests := []struct {
		name     string
		issued   time.Time
		now      time.Time
		left     float64
		low      bool
		sinceSet bool
	}{
		{"new", iat, iat, 1, false, false},
		{"half", iat, iat.Add(50 * time.Second), 0.5, false, false},
		{"within the margin", iat, iat.Add(91 * time.Second), 0.09, true, false},
		{"expired", iat, exp.Add(time.Second), 0, true, false},
		{"no iat: from when it was shown", time.Time{}, iat.Add(75 * time.Second), 0.5, false, true},
	}
	for _, tt := range tests {
		since := iat
		if tt.sinceSet {
			since = iat.Add(50 * time.Second)
		}
		left, low := lifetime(tt.issued, since, exp, tt.now, 10*time.Second)
		if diff := left - tt.left; diff > 0.001 || diff < -0.001 || low != tt.low {
			t.Errorf("%s: left %.3f low %v, want %.3f %v", tt.name, left, low, tt.left, tt.low)
		}
	}
}

// TestDashboardBarColours: the access bar changes colour within the refresh
// margin; under NO_COLOR (the Ascii profile) it has no colour at all.
func TestDashboardBarColours(t *testing.T) {
	t.Parallel()
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.ANSI)
	s := newStyles(r)
	bar := s.newBar()
	ok, low := s.barView(bar, 10, 0.5, false), s.barView(bar, 10, 0.5, true)
	if ok == low || !strings.Contains(ok, "\x1b[") {
		t.Errorf("the same colour in and out of the margin: %q, %q", ok, low)
	}
	plain := newStyles(asciiRenderer())
	if v := plain.barView(plain.newBar(), 10, 0.5, true); v != "█████░░░░░" {
		t.Errorf("without colours: %q", v)
	}
}

// TestDashboardClockSkew: the countdowns follow the server's clock (the
// offset the SDK measured at login or refresh), and the dashboard warns
// when the clocks differ by more than client.ClockSkewWarning, as dyorctl
// status does.
func TestDashboardClockSkew(t *testing.T) {
	t.Parallel()
	m, _ := shownDashboard(t)
	plain := m.view(200, 0)
	for _, tt := range []struct {
		skew time.Duration
		want string
	}{
		{0, ""},
		{30 * time.Second, ""},
		{2 * time.Minute, "the server's clock is 2m 0s ahead of this one"},
		{-40 * time.Second, "the server's clock is 40s behind this one"},
	} {
		m.session.ClockOffset = tt.skew
		got := m.skewWarning()
		if (tt.want == "") != (got == "") || !strings.HasPrefix(got, tt.want) {
			t.Errorf("skew %v: %q, want %q…", tt.skew, got, tt.want)
		}
		if tt.want != "" && !strings.Contains(m.view(200, 0), "✗ "+tt.want) {
			t.Errorf("skew %v: not shown:\n%s", tt.skew, m.view(200, 0))
		}
	}
	// Two minutes ahead: the access token has two minutes less to live.
	m.session.ClockOffset = 0
	want := countdown(m.session.AccessExpiresAt, m.now.Add(2*time.Minute))
	m.session.ClockOffset = 2 * time.Minute
	if v := m.view(200, 0); !strings.Contains(v, "access "+want) || strings.Contains(plain, "access "+want) {
		t.Errorf("with the server 2m ahead the countdown is not %q:\n%s", want, v)
	}
}
