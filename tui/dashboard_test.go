package tui

import (
	"fmt"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

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
