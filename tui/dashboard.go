package tui

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/progress"
	"github.com/charmbracelet/bubbles/spinner"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/dyor-exchange/dyorctl/client"
	"github.com/dyor-exchange/dyorctl/internal/safetext"
	"github.com/dyor-exchange/dyorctl/internal/timefmt"
)

// What the dashboard is busy with.
const (
	idle       = ""
	refreshing = "refreshing the session…"
	loggingOut = "logging out…"
)

// Auto-refresh starts this long before the access token expires: 30 s, or a
// tenth of the token's lifetime if that is shorter, but never less than 5 s.
// It is the app's refresh margin: the access bar changes colour there.
const (
	autoRefreshLead    = 30 * time.Second
	autoRefreshMinLead = 5 * time.Second
)

// The history keeps the last historyLimit events of the run.
const historyLimit = 200

// historyEntry is an event of the run, at the app's clock.
type historyEntry struct {
	at   time.Time
	text string
}

// dashboardModel is the screen of a session. Its history lasts the whole
// run, across accounts and logins.
type dashboardModel struct {
	deps    deps
	keys    dashboardKeyMap
	spinner spinner.Model
	bar     progress.Model

	session session
	shownAt time.Time // when the session was shown: a bar's start if no "iat"
	now     time.Time // of the last tick: the countdowns are drawn from it
	tickID  int       // the running tick loop; ticks of older loops are dropped

	auto      bool
	autoTried string // the token auto-refresh was started for: once per token
	retries   int    // auto-refresh's failed tries in a row (back-off)
	retryGen  int    // a retry of an earlier run of failures is dropped

	busy      string // idle, refreshing or loggingOut
	err, note string
	fullHelp  bool

	history       []historyEntry
	pane          viewport.Model
	width, height int
}

func newDashboard(d deps) *dashboardModel {
	keys := newDashboardKeyMap()
	pane := viewport.New(defaultWidth, 5)
	pane.KeyMap = keys.Scroll
	pane.MouseWheelEnabled = false
	return &dashboardModel{
		deps:    d,
		keys:    keys,
		spinner: d.styles.newSpinner(),
		bar:     d.styles.newBar(),
		pane:    pane,
		width:   defaultWidth,
	}
}

// show shows s, with event in the history, and returns the command that
// starts its tick loop (replacing any loop of an earlier showing).
func (m *dashboardModel) show(s session, event string) tea.Cmd {
	m.session = s
	m.now = m.deps.now()
	m.shownAt = m.now
	m.tickID++
	m.auto, m.autoTried, m.retries = false, "", 0
	m.busy, m.err, m.note = idle, "", ""
	m.fullHelp = false
	if event != "" {
		m.record(event)
	}
	return m.tick()
}

// record adds an event to the history, and scrolls to it.
func (m *dashboardModel) record(text string) {
	m.history = append(m.history, historyEntry{at: m.deps.now(), text: text})
	if len(m.history) > historyLimit {
		m.history = m.history[len(m.history)-historyLimit:]
	}
	m.fillPane()
	m.pane.GotoBottom()
}

// fillPane writes the history into the pane, one line per event cut to the
// pane's width.
func (m *dashboardModel) fillPane() {
	lines := make([]string, len(m.history))
	for i, e := range m.history {
		lines[i] = truncate(e.at.Format("15:04:05")+" "+safetext.String(e.text), max(m.pane.Width, 1))
	}
	m.pane.SetContent(strings.Join(lines, "\n"))
}

// The lines of the dashboard above the history pane when the status is one
// line: three fields, an empty line, two countdowns, auto-refresh, an empty
// line, the status, an empty line, the pane's heading.
const dashboardTopLines = 11

func (m *dashboardModel) setSize(width, height int) {
	m.width, m.height = width, height
	m.pane.Width = max(width-2, 1)
	paneHeight := 5 // until the terminal's height is known
	if height > 0 {
		paneHeight = max(height-dashboardTopLines, 1)
	}
	m.pane.Height = paneHeight
	m.fillPane()
	m.pane.GotoBottom()
}

// tick waits until the countdowns next change (about a second).
func (m *dashboardModel) tick() tea.Cmd {
	id := m.tickID
	return tea.Tick(nextTick(m.session.AccessExpiresAt.Sub(m.session.now(m.now))), func(time.Time) tea.Msg {
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

func (m *dashboardModel) update(msg tea.Msg) (tea.Cmd, navigation) {
	switch msg := msg.(type) {
	case dashboardTickMsg:
		if msg.id != m.tickID {
			return nil, nil
		}
		m.now = m.deps.now()
		if !m.session.valid(m.now) && m.busy == idle {
			m.record("the session of " + m.session.Username + " expired")
			return nil, m.toLogin(expiredNote(m.session)) // and the tick loop ends
		}
		if m.autoRefreshDue() {
			m.autoTried = m.tokenKey()
			return tea.Batch(m.tick(), m.startRefresh(true)), nil
		}
		return m.tick(), nil

	case retryRefreshMsg:
		if msg.id != m.tickID || msg.gen != m.retryGen || !m.auto || m.busy != idle {
			return nil, nil // another session or run of failures, auto-refresh off, or busy
		}
		return m.startRefresh(true), nil

	case refreshResultMsg:
		if m.busy != refreshing {
			return nil, nil
		}
		m.busy = idle
		if msg.err != nil {
			return m.refreshFailed(msg)
		}
		if msg.session.Username == "" {
			msg.session.Username = m.session.Username
		}
		m.session = msg.session
		m.now = m.deps.now()
		m.retries = 0
		m.retryGen++ // a retry still waiting is not needed any more
		m.note = "session refreshed"
		if msg.auto {
			m.note = "session refreshed automatically"
			m.record("auto-refreshed")
		} else {
			m.record("refreshed by hand")
		}
		return nil, nil

	case logoutResultMsg:
		if m.busy != loggingOut {
			return nil, nil
		}
		m.busy = idle
		note, isError := logoutNote(msg.err)
		m.record(m.session.Username + ": " + note)
		return nil, toHome{note: note, isError: isError}

	case spinner.TickMsg:
		if m.busy == idle {
			return nil, nil // the spinner stops
		}
		var cmd tea.Cmd
		m.spinner, cmd = m.spinner.Update(msg)
		return cmd, nil

	case tea.KeyMsg:
		switch {
		case key.Matches(msg, m.keys.Refresh):
			if m.busy == idle {
				return m.startRefresh(false), nil
			}
		case key.Matches(msg, m.keys.Logout):
			if m.busy == idle {
				m.busy, m.err, m.note = loggingOut, "", ""
				return tea.Batch(logoutCmd(m.deps, m.session.Server), m.spinner.Tick), nil
			}
		case key.Matches(msg, m.keys.Auto):
			m.auto = !m.auto
			m.retries = 0
			m.retryGen++
		case key.Matches(msg, m.keys.Back):
			if m.busy == idle {
				return nil, toHome{}
			}
		case key.Matches(msg, m.keys.Help):
			m.fullHelp = !m.fullHelp
		case key.Matches(msg, m.keys.Quit):
			return tea.Quit, nil
		default:
			var cmd tea.Cmd
			m.pane, cmd = m.pane.Update(msg)
			return cmd, nil
		}
	}
	return nil, nil
}

// refreshFailed handles a refresh that did not succeed. A session the
// server no longer accepts leads to the login form; a failure that may pass
// (network, 5xx) is retried with back-off while auto-refresh is on; the
// user is never logged out for it.
func (m *dashboardModel) refreshFailed(msg refreshResultMsg) (tea.Cmd, navigation) {
	s := m.session
	switch {
	case errors.Is(msg.err, client.ErrSessionInvalid) && !s.valid(m.deps.now()):
		m.record("the session of " + s.Username + " expired")
		return nil, m.toLogin(expiredNote(s))
	case errors.Is(msg.err, client.ErrSessionInvalid):
		m.record("session revoked elsewhere: the server no longer accepts it")
		return nil, m.toLogin("the server no longer accepts the session of " + s.Username +
			" (it was revoked or replaced elsewhere): log in again")
	case errors.Is(msg.err, client.ErrNotLoggedIn):
		m.record("logged out elsewhere: no stored session")
		return nil, m.toLogin("the session of " + s.Username + " was logged out elsewhere: log in again")
	}
	why := errorText(msg.err, s.Username)
	m.err = why
	if msg.auto && m.auto && transient(msg.err) {
		wait := m.deps.backoff.delay(m.retries)
		m.retries++
		m.record("refresh failed: " + why + "; retrying in " + timefmt.Duration(wait))
		id, gen := m.tickID, m.retryGen
		return tea.Tick(wait, func(time.Time) tea.Msg { return retryRefreshMsg{id: id, gen: gen} }), nil
	}
	m.record("refresh failed: " + why)
	return nil, nil
}

// toLogin is the login form for the session's account, saying why.
func (m *dashboardModel) toLogin(why string) navigation {
	return toForm{kind: loginForm, server: m.session.Server, username: m.session.Username, note: why, isError: true}
}

func (m *dashboardModel) startRefresh(auto bool) tea.Cmd {
	m.busy, m.err, m.note = refreshing, "", ""
	return tea.Batch(refreshCmd(m.deps, m.session.Server, auto), m.spinner.Tick)
}

// tokenKey names the current access token for "once per token".
func (m *dashboardModel) tokenKey() string {
	return fmt.Sprintf("%s@%d", m.session.SessionID, m.session.AccessExpiresAt.Unix())
}

// autoRefreshDue reports whether auto-refresh should refresh now: it is on,
// nothing runs, the access token expires within the lead, and auto-refresh
// has not been tried for this token yet (a failure is retried with back-off
// instead; r still works).
func (m *dashboardModel) autoRefreshDue() bool {
	if !m.auto || m.busy != idle || m.autoTried == m.tokenKey() {
		return false
	}
	return m.session.AccessExpiresAt.Sub(m.session.now(m.now)) <= refreshLead(m.session)
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
	return "expires in " + timefmt.Duration(d)
}

// lifetime is what is left of a token that expires at expires, as a
// fraction of its whole life from issued (or, unknown, from since), and
// whether it is within margin of its end.
func lifetime(issued, since, expires, now time.Time, margin time.Duration) (left float64, low bool) {
	start := issued
	if start.IsZero() || !start.Before(expires) {
		start = since
	}
	total := expires.Sub(start)
	remaining := expires.Sub(now)
	if total <= 0 || remaining <= 0 {
		return 0, true
	}
	return min(float64(remaining)/float64(total), 1), remaining <= margin
}

func (m *dashboardModel) title() string { return "logged in" }

func (m *dashboardModel) helpKeys() (help.KeyMap, bool) { return m.keys, m.fullHelp }

const dashboardLabelWidth = len("Username") + 2

// countdownWidth is the longest countdown line, "refresh expires in 6d 23h
// 59m"; the bars start after it.
const countdownWidth = len("refresh expires in 6d 23h 59m")

// The bars are at most maxBarWidth wide and not drawn under minBarWidth.
const (
	maxBarWidth = 40
	minBarWidth = 6
)

func (m *dashboardModel) view(width, height int) string {
	s := m.deps.styles
	valueWidth := max(width-2-dashboardLabelWidth, 1)
	field := func(label, value string) string {
		if value == "" {
			value = "(unknown)"
		}
		return "  " + s.label.Render(fmt.Sprintf("%-*s", dashboardLabelWidth, label)) +
			s.value.Render(truncate(safetext.String(value), valueWidth)) + "\n"
	}
	var b strings.Builder
	b.WriteString(field("Username", m.session.Username))
	b.WriteString(field("Server", m.session.Server))
	b.WriteString(field("Session", m.session.SessionID))
	b.WriteByte('\n')

	ses := m.session
	now, shownAt := ses.now(m.now), ses.now(m.shownAt) // on the server's clock, as the tokens' times are
	accessLeft, accessLow := lifetime(ses.AccessIssuedAt, shownAt, ses.AccessExpiresAt, now, refreshLead(ses))
	refreshTotal := ses.RefreshExpiresAt.Sub(ses.AccessIssuedAt)
	if ses.AccessIssuedAt.IsZero() {
		refreshTotal = ses.RefreshExpiresAt.Sub(shownAt)
	}
	refreshLeft, refreshLow := lifetime(ses.AccessIssuedAt, shownAt, ses.RefreshExpiresAt, now, refreshTotal/10)
	barWidth := min(width-2-countdownWidth-2, maxBarWidth)
	line := func(text string, left float64, low bool) string {
		text = truncate(text, max(width-2, 1))
		if barWidth < minBarWidth {
			return "  " + s.value.Render(text) + "\n"
		}
		return "  " + s.value.Render(fmt.Sprintf("%-*s", countdownWidth, text)) + "  " + s.barView(m.bar, barWidth, left, low) + "\n"
	}
	b.WriteString(line("access "+countdown(ses.AccessExpiresAt, now), accessLeft, accessLow))
	b.WriteString(line("refresh "+countdown(ses.RefreshExpiresAt, now), refreshLeft, refreshLow))
	b.WriteString("  " + s.value.Render("auto-refresh: "+onOff(m.auto)) + "\n")
	if w := m.skewWarning(); w != "" {
		b.WriteString(statusLine(s, width, w, true))
	}
	b.WriteByte('\n')
	switch {
	case m.busy != idle:
		b.WriteString(busyLine(s, width, m.spinner.View(), m.busy))
	case m.err != "":
		b.WriteString(statusLine(s, width, m.err, true))
	case m.note != "":
		b.WriteString(statusLine(s, width, m.note, false))
	default:
		b.WriteByte('\n')
	}
	if height > 0 && height < dashboardTopLines+1 {
		return b.String() // no room for the history
	}
	b.WriteByte('\n')
	b.WriteString("  " + s.label.Render("History") + "\n")
	if len(m.history) == 0 {
		b.WriteString("  " + s.muted.Render("nothing yet") + "\n")
		return b.String()
	}
	for _, l := range strings.Split(m.pane.View(), "\n") {
		b.WriteString("  " + l + "\n")
	}
	return b.String()
}

// skewWarning is the clock-skew warning, or "".
func (m *dashboardModel) skewWarning() string {
	d, side := m.session.ClockOffset, "ahead of"
	if d < 0 {
		d, side = -d, "behind"
	}
	if d <= client.ClockSkewWarning {
		return ""
	}
	return "the server's clock is " + timefmt.Duration(d) + " " + side + " this one; the countdowns follow the server's"
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}
