package tui

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/dyor-exchange/dyorctl/client"
)

// What the dashboard is busy with.
const (
	idle       = ""
	refreshing = "refreshing the session…"
	loggingOut = "logging out…"
)

// Auto-refresh starts this long before the access token expires: 30 s, or a
// tenth of the token's lifetime if that is shorter, but never less than 5 s.
const (
	autoRefreshLead    = 30 * time.Second
	autoRefreshMinLead = 5 * time.Second
)

const sessionExpiredNote = "session expired, log in again"

// dashboardModel is the screen shown when logged in.
type dashboardModel struct {
	deps    deps
	keys    dashboardKeyMap
	spinner spinner.Model

	session session
	now     time.Time // of the last tick: the countdowns are drawn from it
	tickID  int       // the running tick loop; ticks of older loops are dropped

	auto      bool
	autoTried string // the token auto-refresh was started for: once per token

	busy      string // idle, refreshing or loggingOut
	err, note string
	fullHelp  bool

	goTo any // toMenu, toForm or toDashboard: the screen to show next
}

func newDashboard(d deps) dashboardModel {
	return dashboardModel{deps: d, keys: newDashboardKeyMap(), spinner: d.styles.newSpinner()}
}

// show returns the dashboard for s, and the command that starts its tick
// loop (replacing any loop of an earlier showing).
func (m dashboardModel) show(s session, note string) (dashboardModel, tea.Cmd) {
	m.session = s
	m.now = m.deps.now()
	m.tickID++
	m.auto, m.autoTried = false, ""
	m.busy, m.err, m.note = idle, "", note
	m.fullHelp = false
	return m, m.tick()
}

// tick waits until the countdowns next change (about a second).
func (m dashboardModel) tick() tea.Cmd {
	id := m.tickID
	return tea.Tick(nextTick(m.session.AccessExpiresAt.Sub(m.now)), func(time.Time) tea.Msg {
		return dashboardTickMsg{id: id}
	})
}

// nextTick is how long until a countdown showing remaining (rounded down to
// the second) changes: at most a second. Both expiries are whole seconds, so
// both countdowns change together.
func nextTick(remaining time.Duration) time.Duration {
	frac := remaining % time.Second
	if frac < 0 {
		frac += time.Second
	}
	if frac == 0 {
		return time.Second
	}
	return frac + 20*time.Millisecond
}

func (m dashboardModel) update(msg tea.Msg) (dashboardModel, tea.Cmd) {
	switch msg := msg.(type) {
	case dashboardTickMsg:
		if msg.id != m.tickID {
			return m, nil
		}
		m.now = m.deps.now()
		if !m.session.valid(m.now) && m.busy == idle {
			m.goTo = toMenu{note: sessionExpiredNote, isError: true}
			return m, nil // and the tick loop ends
		}
		if m.autoRefreshDue() {
			m.autoTried = m.tokenKey()
			var cmd tea.Cmd
			m, cmd = m.startRefresh(true)
			return m, tea.Batch(m.tick(), cmd)
		}
		return m, m.tick()

	case refreshResultMsg:
		if m.busy != refreshing {
			return m, nil
		}
		m.busy = idle
		if msg.err != nil {
			if errors.Is(msg.err, client.ErrSessionInvalid) || errors.Is(msg.err, client.ErrNotLoggedIn) {
				m.goTo = toMenu{note: sessionExpiredNote, isError: true}
				return m, nil
			}
			m.err = errorText(msg.err, m.session.Username)
			return m, nil
		}
		if msg.session.Username == "" {
			msg.session.Username = m.session.Username
		}
		m.session = msg.session
		m.now = m.deps.now()
		m.note = "session refreshed"
		if msg.auto {
			m.note = "session refreshed automatically"
		}
		return m, nil

	case logoutResultMsg:
		if m.busy != loggingOut {
			return m, nil
		}
		m.busy = idle
		note, isError := logoutNote(msg.err)
		m.goTo = toMenu{note: note, isError: isError}
		return m, nil

	case spinner.TickMsg:
		if m.busy == idle {
			return m, nil // the spinner stops
		}
		var cmd tea.Cmd
		m.spinner, cmd = m.spinner.Update(msg)
		return m, cmd

	case tea.KeyMsg:
		switch {
		case key.Matches(msg, m.keys.Refresh):
			if m.busy == idle {
				return m.startRefresh(false)
			}
		case key.Matches(msg, m.keys.Logout):
			if m.busy == idle {
				m.busy, m.err, m.note = loggingOut, "", ""
				return m, tea.Batch(logoutCmd(m.deps), m.spinner.Tick)
			}
		case key.Matches(msg, m.keys.Auto):
			m.auto = !m.auto
		case key.Matches(msg, m.keys.Help):
			m.fullHelp = !m.fullHelp
		case key.Matches(msg, m.keys.Quit):
			return m, tea.Quit
		}
	}
	return m, nil
}

func (m dashboardModel) startRefresh(auto bool) (dashboardModel, tea.Cmd) {
	m.busy, m.err, m.note = refreshing, "", ""
	return m, tea.Batch(refreshCmd(m.deps, auto), m.spinner.Tick)
}

// tokenKey names the current access token for "once per token".
func (m dashboardModel) tokenKey() string {
	return fmt.Sprintf("%s@%d", m.session.SessionID, m.session.AccessExpiresAt.Unix())
}

// autoRefreshDue reports whether auto-refresh should refresh now: it is on,
// nothing runs, the access token expires within the lead, and auto-refresh
// has not been tried for this token yet (a failed try is not repeated every
// second; r still works).
func (m dashboardModel) autoRefreshDue() bool {
	if !m.auto || m.busy != idle || m.autoTried == m.tokenKey() {
		return false
	}
	return m.session.AccessExpiresAt.Sub(m.now) <= refreshLead(m.session)
}

func refreshLead(s session) time.Duration {
	lead := autoRefreshLead
	if !s.AccessIssuedAt.IsZero() {
		lead = min(lead, s.AccessExpiresAt.Sub(s.AccessIssuedAt)/10)
	}
	return max(lead, autoRefreshMinLead)
}

// countdown says when a token expires, e.g. "expires in 14m 32s".
func countdown(expires, now time.Time) string {
	d := expires.Sub(now)
	if d <= 0 {
		return "expired"
	}
	return "expires in " + formatDuration(d)
}

// formatDuration writes d, rounded down to the second, in its three largest
// units ("6d 23h 59m", "2h 5m 0s", "14m 32s", "9s").
func formatDuration(d time.Duration) string {
	s := int64(d / time.Second)
	days, hours, mins, secs := s/86400, s/3600%24, s/60%60, s%60
	switch {
	case days > 0:
		return fmt.Sprintf("%dd %dh %dm", days, hours, mins)
	case hours > 0:
		return fmt.Sprintf("%dh %dm %ds", hours, mins, secs)
	case mins > 0:
		return fmt.Sprintf("%dm %ds", mins, secs)
	}
	return fmt.Sprintf("%ds", secs)
}

func (m dashboardModel) title() string { return "logged in" }

func (m dashboardModel) helpKeys() (help.KeyMap, bool) { return m.keys, m.fullHelp }

const dashboardLabelWidth = len("Username") + 2

func (m dashboardModel) view(width int) string {
	s := m.deps.styles
	valueWidth := max(width-2-dashboardLabelWidth, 1)
	field := func(label, value string) string {
		if value == "" {
			value = "(unknown)"
		}
		return "  " + s.label.Render(fmt.Sprintf("%-*s", dashboardLabelWidth, label)) +
			s.value.Render(truncate(value, valueWidth)) + "\n"
	}
	var b strings.Builder
	b.WriteString(field("Username", m.session.Username))
	b.WriteString(field("Server", m.deps.server))
	b.WriteString(field("Session", m.session.SessionID))
	b.WriteByte('\n')
	lines := []string{
		"access " + countdown(m.session.AccessExpiresAt, m.now),
		"refresh " + countdown(m.session.RefreshExpiresAt, m.now),
		"auto-refresh: " + onOff(m.auto),
	}
	for _, l := range lines {
		b.WriteString("  " + s.value.Render(truncate(l, max(width-2, 1))) + "\n")
	}
	b.WriteByte('\n')
	switch {
	case m.busy != idle:
		b.WriteString(busyLine(s, width, m.spinner.View(), m.busy))
	case m.err != "":
		b.WriteString(statusLine(s, width, m.err, true))
	case m.note != "":
		b.WriteString(statusLine(s, width, m.note, false))
	}
	return b.String()
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}
