package tui

import (
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	"github.com/charmbracelet/bubbles/table"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/dyor-exchange/dyorctl/internal/safetext"
	"github.com/dyor-exchange/dyorctl/internal/timefmt"
)

// accountsTickMsg redraws the accounts' countdowns; id is the showing it
// belongs to.
type accountsTickMsg struct{ id int }

// accountsModel is the screen of every stored account of every server.
type accountsModel struct {
	deps    deps
	keys    accountsKeyMap
	table   table.Model
	filter  textinput.Model
	spinner spinner.Model

	all   []storedAccount // as read
	shown []storedAccount // those the filter lets through, as in the table

	filtering  bool           // the filter is being typed
	confirming *storedAccount // the account d asks about
	busy       string         // what runs, e.g. "logging out john@API…"
	err, note  string
	fullHelp   bool

	now           time.Time
	tickID        int
	width, height int
}

// The fixed columns' widths: the marks ("> *": cursor and active), the
// countdowns ("59m 59s", "6d 23h 59m") and the state ("expired").
const (
	markWidth    = 3
	accessWidth  = 7
	refreshWidth = 10
	stateWidth   = 7
)

func newAccounts(d deps) *accountsModel {
	keys := newAccountsKeyMap()
	t := table.New(table.WithKeyMap(keys.Table), table.WithFocused(true))
	t.SetStyles(d.styles.table)
	f := d.styles.newInput()
	f.Prompt = "Filter: "
	f.PromptStyle = d.styles.label
	f.CharLimit = 64
	m := &accountsModel{deps: d, keys: keys, table: t, filter: f, spinner: d.styles.newSpinner()}
	m.setSize(defaultWidth, 0)
	return m
}

// show shows the accounts just read, the cursor on the first active one
// (of the default server if it has one), with note under them.
func (m *accountsModel) show(accounts []storedAccount, note string, isError bool) {
	m.all = accounts
	m.filtering, m.confirming, m.busy = false, nil, ""
	m.filter.Reset()
	m.filter.Blur()
	m.err, m.note = "", ""
	if isError {
		m.err = note
	} else {
		m.note = note
	}
	m.fullHelp = false
	m.now = m.deps.now()
	m.tickID++
	m.refilter()
	m.fitTable()
	cursor := 0
	for i, a := range m.shown {
		if a.Active && (a.Session.Server == m.deps.server || !m.shown[cursor].Active) {
			cursor = i
			if a.Session.Server == m.deps.server {
				break
			}
		}
	}
	m.table.SetCursor(cursor)
	m.fillRows()
}

// reload takes the accounts read again, keeping the filter and the cursor
// on the same account if it is still there.
func (m *accountsModel) reload(accounts []storedAccount) {
	cur, had := m.selected()
	m.all = accounts
	m.refilter()
	m.fitTable()
	if had {
		for i, a := range m.shown {
			if a.Session.Server == cur.Session.Server && a.Session.Username == cur.Session.Username {
				m.table.SetCursor(i)
				break
			}
		}
	}
	if m.confirming != nil {
		c := m.confirming.Session
		m.confirming = nil
		for _, a := range m.all {
			if a.Session.Server == c.Server && a.Session.Username == c.Username {
				m.confirming = &a
			}
		}
	}
	m.fillRows()
}

// tick redraws the countdowns every second while the screen shows.
func (m *accountsModel) tick() tea.Cmd {
	id := m.tickID
	return tea.Tick(time.Second, func(time.Time) tea.Msg { return accountsTickMsg{id: id} })
}

// refilter keeps the accounts whose server or username holds the filter's
// text, ignoring case.
func (m *accountsModel) refilter() {
	q := strings.ToLower(strings.TrimSpace(m.filter.Value()))
	m.shown = m.shown[:0:0]
	for _, a := range m.all {
		if q == "" || strings.Contains(strings.ToLower(a.Session.Server), q) ||
			strings.Contains(strings.ToLower(a.Session.Username), q) {
			m.shown = append(m.shown, a)
		}
	}
	m.fillRows()
}

// columns fits the columns to the width: the fixed ones, then the server
// and the username share the rest, three to two.
func (m *accountsModel) columns() []table.Column {
	avail := max(m.width-2, 20)
	rest := max(avail-(markWidth+accessWidth+refreshWidth+stateWidth)-6, 8)
	server := max(rest*3/5, 4)
	user := max(rest-server, 4)
	return []table.Column{
		{Title: "", Width: markWidth},
		{Title: "Server", Width: server},
		{Title: "Account", Width: user},
		{Title: "Access", Width: accessWidth},
		{Title: "Refresh", Width: refreshWidth},
		{Title: "State", Width: stateWidth},
	}
}

// fillRows draws the rows again: the marks move with the cursor, the
// countdowns with the clock.
func (m *accountsModel) fillRows() {
	cols := m.columns()
	rows := make([]table.Row, len(m.shown))
	cursor := m.table.Cursor()
	for i, a := range m.shown {
		mark := "  "
		if i == cursor {
			mark = "> "
		}
		if a.Active {
			mark += "*"
		}
		state := "valid"
		if !a.Session.valid(m.now) {
			state = "expired"
		}
		rows[i] = table.Row{
			mark,
			cutLeft(safetext.String(a.Session.Server), cols[1].Width),
			truncate(safetext.String(a.Session.Username), cols[2].Width),
			shortCountdown(a.Session.AccessExpiresAt, a.Session.now(m.now)),
			shortCountdown(a.Session.RefreshExpiresAt, a.Session.now(m.now)),
			state,
		}
	}
	m.table.SetColumns(cols)
	m.table.SetRows(rows)
}

// shortCountdown is how long until expires, or "expired".
func shortCountdown(expires, now time.Time) string {
	if d := expires.Sub(now); d > 0 {
		return timefmt.Duration(d)
	}
	return "expired"
}

// cutLeft cuts s to width columns from the left, "…" first: the port is what
// tells two local servers apart.
func cutLeft(s string, width int) string {
	if len([]rune(s)) <= width || width <= 1 {
		return truncate(s, width)
	}
	r := []rune(s)
	return "…" + string(r[len(r)-(width-1):])
}

func (m *accountsModel) setSize(width, height int) {
	m.width, m.height = width, height
	m.filter.Width = max(width-2-len(m.filter.Prompt)-1, 4)
	m.fitTable()
	m.fillRows()
}

// fitTable gives the table the lines left by the filter and the status.
func (m *accountsModel) fitTable() {
	m.table.SetWidth(max(m.width-2, 1))
	rows := len(m.shown)
	h := rows + 1 // and its header
	if m.height > 0 {
		// The filter, an empty line, the status and its empty line.
		h = min(h, max(m.height-4, 2))
	}
	m.table.SetHeight(max(h, 2))
}

// selected is the account under the cursor, if any.
func (m *accountsModel) selected() (storedAccount, bool) {
	i := m.table.Cursor()
	if i < 0 || i >= len(m.shown) {
		return storedAccount{}, false
	}
	return m.shown[i], true
}

// openSelected opens the account under the cursor: the login form when its
// session has expired, else its dashboard once it is its server's active
// account.
func (m *accountsModel) openSelected() tea.Cmd {
	a, ok := m.selected()
	if !ok {
		return nil
	}
	m.busy, m.err, m.note = "opening "+a.Session.Username+"…", "", ""
	return tea.Batch(openAccountCmd(m.deps, a), m.spinner.Tick)
}

func (m *accountsModel) update(msg tea.Msg) (tea.Cmd, navigation) {
	switch msg := msg.(type) {
	case accountsTickMsg:
		if msg.id != m.tickID {
			return nil, nil
		}
		m.now = m.deps.now()
		m.fillRows()
		return m.tick(), nil

	case accountOpenedMsg:
		if m.busy == "" {
			return nil, nil
		}
		m.busy = ""
		if msg.err != nil {
			m.err = "cannot make " + msg.session.Username + " the active account: " + errorText(msg.err, msg.session.Username)
			return nil, nil
		}
		s := msg.session
		return nil, toDashboard{session: s, event: "opened " + s.Username + ", now active on its server"}

	case accountLoggedOutMsg:
		if m.busy == "" {
			return nil, nil
		}
		m.busy = ""
		// Gone from the store: gone from the list shown until it is read
		// again.
		kept := m.all[:0:0]
		for _, a := range m.all {
			if a.Session.Server != msg.session.Server || a.Session.Username != msg.session.Username {
				kept = append(kept, a)
			}
		}
		m.all = kept
		note, isError := logoutNote(msg.err)
		u := msg.session.Username
		return nil, toHome{note: u + ": " + note, isError: isError, event: u + " at " + msg.session.Server + ": " + note}

	case spinner.TickMsg:
		if m.busy == "" {
			return nil, nil
		}
		var cmd tea.Cmd
		m.spinner, cmd = m.spinner.Update(msg)
		return cmd, nil

	case tea.KeyMsg:
		if m.busy != "" {
			return nil, nil
		}
		switch {
		case m.confirming != nil:
			return m.answer(msg), nil
		case m.filtering:
			return m.typeFilter(msg), nil
		}
		return m.key(msg)
	}
	return nil, nil
}

// key handles a key on the list itself.
func (m *accountsModel) key(msg tea.KeyMsg) (tea.Cmd, navigation) {
	switch {
	case key.Matches(msg, m.keys.Open):
		a, ok := m.selected()
		if !ok {
			return nil, nil
		}
		if !a.Session.valid(m.deps.now()) {
			return nil, toForm{kind: loginForm, server: a.Session.Server, username: a.Session.Username,
				note: expiredNote(a.Session), isError: true}
		}
		return m.openSelected(), nil
	case key.Matches(msg, m.keys.Logout):
		if a, ok := m.selected(); ok {
			m.confirming = &a
			m.err, m.note = "", ""
		}
		return nil, nil
	case key.Matches(msg, m.keys.New):
		return nil, toForm{kind: loginForm}
	case key.Matches(msg, m.keys.Filter):
		m.filtering = true
		m.err, m.note = "", ""
		m.fitTable()
		return m.filter.Focus(), nil
	case key.Matches(msg, m.keys.Help):
		m.fullHelp = !m.fullHelp
		return nil, nil
	case key.Matches(msg, m.keys.Quit):
		return tea.Quit, nil
	}
	before := m.table.Cursor()
	var cmd tea.Cmd
	m.table, cmd = m.table.Update(msg)
	if m.table.Cursor() != before {
		m.fillRows()
	}
	return cmd, nil
}

// answer handles the answer to "log out …?".
func (m *accountsModel) answer(msg tea.KeyMsg) tea.Cmd {
	a := *m.confirming
	switch {
	case key.Matches(msg, m.keys.Yes):
		m.confirming = nil
		m.busy = "logging out " + a.Session.Username + "…"
		return tea.Batch(logoutAccountCmd(m.deps, a), m.spinner.Tick)
	case key.Matches(msg, m.keys.No):
		m.confirming = nil
	}
	return nil
}

// typeFilter handles a key while the filter is typed.
func (m *accountsModel) typeFilter(msg tea.KeyMsg) tea.Cmd {
	switch {
	case key.Matches(msg, m.keys.FilterDone):
		m.filtering = false
		m.filter.Blur()
		return nil
	case key.Matches(msg, m.keys.FilterClear):
		m.filtering = false
		m.filter.Reset()
		m.filter.Blur()
		m.refilter()
		m.fitTable()
		return nil
	}
	var cmd tea.Cmd
	m.filter, cmd = m.filter.Update(msg)
	m.refilter()
	m.table.SetCursor(0)
	m.fitTable()
	m.fillRows()
	return cmd
}

func (m *accountsModel) title() string { return "accounts" }

func (m *accountsModel) helpKeys() (help.KeyMap, bool) {
	switch {
	case m.confirming != nil:
		return confirmKeys{m.keys}, false
	case m.filtering:
		return filterKeys{m.keys}, false
	}
	return m.keys, m.fullHelp
}

func (m *accountsModel) view(width, height int) string {
	s := m.deps.styles
	var b strings.Builder
	if m.filtering || m.filter.Value() != "" {
		b.WriteString("  " + m.filter.View() + "\n")
	}
	if len(m.shown) == 0 {
		b.WriteString("  " + s.muted.Render(truncate(safetext.String("no account matches "+m.filter.Value()), max(width-2, 1))) + "\n")
	} else {
		for _, l := range strings.Split(m.table.View(), "\n") {
			b.WriteString("  " + l + "\n")
		}
	}
	b.WriteByte('\n')
	switch {
	case m.busy != "":
		b.WriteString(busyLine(s, width, m.spinner.View(), m.busy))
	case m.confirming != nil:
		a := m.confirming.Session
		q := safetext.String("? log out " + a.Username + " at " + a.Server + ": the server ends the session, the account is removed. y/n")
		for _, l := range strings.Split(s.renderer.NewStyle().Width(max(width-4, 10)).Render(q), "\n") {
			b.WriteString("  " + s.selected.Render(strings.TrimRight(l, " ")) + "\n")
		}
	case m.err != "":
		b.WriteString(statusLine(s, width, m.err, true))
	case m.note != "":
		b.WriteString(statusLine(s, width, m.note, false))
	default:
		b.WriteString("  " + s.muted.Render(truncate("* marks the active account of each server", max(width-2, 1))) + "\n")
	}
	return b.String()
}
