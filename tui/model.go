package tui

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/dyor-exchange/dyorctl/client"
	"github.com/dyor-exchange/dyorctl/credstore"
	"github.com/dyor-exchange/dyorctl/internal/safetext"
)

// Options configure the app.
type Options struct {
	// Accounts is where every stored account of every server is kept: the
	// CLI's credentials file. Logins made in the app are saved there.
	Accounts AccountStore
	// NewClient makes the client of a server bound to a token store; nil
	// means client.New with that store and the app's clock.
	NewClient func(server string, store client.TokenStore) (*client.Client, error)
	// Client, when Accounts is nil, is the app's one store: its server's
	// account in its token store, other servers' in memory for this run
	// (the demo runs so).
	Client *client.Client
	// Server is the server the login and register forms start with
	// (--server); empty means Client.BaseURL(). It is normalised as the
	// store keys it.
	Server string
	// Input is where keys are read from; nil means os.Stdin (or the
	// terminal, when stdin is not one).
	Input io.Reader
	// Output is where the app is drawn; nil means os.Stdout. Colours are
	// used only when it is a terminal and NO_COLOR is not set.
	Output io.Writer
	// AltScreen runs the app full-screen (the CLI sets it in a terminal).
	AltScreen bool
	// Banner is an optional line shown at the top, e.g. for the demo.
	Banner string

	// For tests.
	now      func() time.Time   // the clock the countdowns use; nil = time.Now
	renderer *lipgloss.Renderer // draws the styles; nil = one bound to Output
	timeout  time.Duration      // of each request; 0 = defaultTimeout
	backoff  backoff            // of auto-refresh's retries; zero = defaultBackoff
}

const (
	// defaultTimeout bounds each request, as the CLI's --timeout does.
	defaultTimeout = 30 * time.Second
	// defaultWidth is assumed until the terminal's size is known.
	defaultWidth = 80
)

// Run runs the app until the user quits, and returns nil then. Cancelling ctx
// ends the app too, and also returns nil: the caller asked for it. Other
// errors are the terminal's or the program's (e.g. no terminal to read keys
// from). Requests still running when the app ends are cancelled.
func Run(ctx context.Context, opts Options) error {
	if opts.Client == nil && opts.Accounts == nil {
		return errNoClient
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()

	popts := []tea.ProgramOption{tea.WithContext(runCtx)}
	if opts.Input != nil {
		popts = append(popts, tea.WithInput(opts.Input))
	}
	if opts.Output != nil {
		popts = append(popts, tea.WithOutput(opts.Output))
	}
	if opts.AltScreen {
		popts = append(popts, tea.WithAltScreen())
	}
	_, err := tea.NewProgram(newModel(runCtx, opts), popts...).Run()
	switch {
	case err == nil:
		return nil
	case errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil:
		return nil // ctx was cancelled
	case errors.Is(err, tea.ErrInterrupted):
		return nil // SIGINT: the user quit
	}
	return err
}

// Model is the app's root model. It routes: Ctrl-C and the window size
// first, then the stored accounts it asked for, then every other message to
// the active screen only; and it opens the screen that one asks for.
type Model struct {
	deps   deps
	banner string
	help   help.Model

	width, height int // 0 until the terminal's size is known

	active    screenID
	accounts  *accountsModel
	menu      *menuModel
	login     *formModel
	register  *formModel
	dashboard *dashboardModel

	// The note to show on the screen toHome opens, once the accounts are
	// read.
	homeNote        string
	homeNoteIsError bool
}

// New returns the app's root model; Run runs it. Its requests use
// context.Background().
func New(opts Options) *Model {
	return newModel(context.Background(), opts)
}

func newModel(ctx context.Context, opts Options) *Model {
	now := opts.now
	if now == nil {
		now = time.Now
	}
	r := opts.renderer
	if r == nil {
		out := opts.Output
		if out == nil {
			out = os.Stdout
		}
		// It checks whether out is a terminal and reads TERM, COLORTERM and
		// NO_COLOR from the environment.
		r = lipgloss.NewRenderer(out)
	}
	timeout := opts.timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	bo := opts.backoff
	if bo.first <= 0 {
		bo = defaultBackoff
	}
	newClient := opts.NewClient
	if newClient == nil {
		newClient = func(server string, st client.TokenStore) (*client.Client, error) {
			return client.New(server, client.WithTokenStore(st), client.WithClock(now))
		}
	}
	store := opts.Accounts
	clients := map[string]*client.Client{}
	server := opts.Server
	if c := opts.Client; c != nil {
		if server == "" {
			server = c.BaseURL()
		}
		if store == nil {
			store = newMemoryAccounts(c)
			clients[c.BaseURL()] = c
		}
	}
	if norm, err := credstore.NormalizeServer(server); err == nil {
		server = norm
	}
	d := deps{
		ctx:       ctx,
		store:     store,
		newClient: newClient,
		server:    server,
		now:       now,
		timeout:   timeout,
		backoff:   bo,
		styles:    newStyles(r),
		clients:   clients,
	}
	return &Model{
		deps:      d,
		banner:    opts.Banner,
		help:      d.styles.newHelp(),
		active:    screenLoading,
		accounts:  newAccounts(d),
		menu:      newMenu(d),
		login:     newForm(d, loginForm),
		register:  newForm(d, registerForm),
		dashboard: newDashboard(d),
	}
}

// Init reads the stored accounts: the app opens on the accounts screen when
// more than one is stored, on the dashboard when one valid one is, on the
// menu when none is.
func (m *Model) Init() tea.Cmd {
	return loadAccountsCmd(m.deps, accountsMsg{startup: true})
}

// current is the active screen; nil while loading.
func (m *Model) current() component {
	switch m.active {
	case screenAccounts:
		return m.accounts
	case screenMenu:
		return m.menu
	case screenLogin:
		return m.login
	case screenRegister:
		return m.register
	case screenDashboard:
		return m.dashboard
	}
	return nil
}

// Update implements tea.Model.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyMsg:
		if key.Matches(msg, quitKey) {
			return m, tea.Quit
		}
		// Keys typed faster than they are read come as one message ("/qu"):
		// each is a key of its own, and may change the screen the next one
		// goes to. A paste stays whole.
		if msg.Type == tea.KeyRunes && len(msg.Runes) > 1 && !msg.Paste {
			var cmds []tea.Cmd
			for _, r := range msg.Runes {
				_, cmd := m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: msg.Alt})
				cmds = append(cmds, cmd)
			}
			return m, tea.Batch(cmds...)
		}
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		for _, c := range []component{m.accounts, m.menu, m.login, m.register, m.dashboard} {
			c.setSize(msg.Width, m.bodyHeight())
		}
		return m, nil
	case accountsMsg:
		switch {
		case m.active == screenLoading && !msg.reload:
			return m, m.home(msg).open(m)
		case m.active == screenAccounts && msg.reload:
			if msg.err == nil && len(msg.accounts) == 0 {
				return m, m.home(msg).open(m) // the menu
			}
			if msg.err == nil {
				m.accounts.reload(msg.accounts)
			}
		}
		return m, nil
	}
	c := m.current()
	if c == nil {
		return m, nil
	}
	cmd, to := c.update(msg)
	if to != nil {
		cmd = tea.Batch(cmd, to.open(m))
	}
	return m, cmd
}

// home is where the accounts just read lead.
func (m *Model) home(msg accountsMsg) navigation {
	note, isError := m.homeNote, m.homeNoteIsError
	m.homeNote, m.homeNoteIsError = "", false
	now := m.deps.now()
	switch {
	case msg.err != nil:
		return toMenu{note: "cannot read the stored accounts: " + msg.err.Error(), isError: true}
	case len(msg.accounts) == 0:
		return toMenu{note: note, isError: isError}
	case len(msg.accounts) == 1 && msg.startup:
		a := msg.accounts[0]
		if !a.Session.valid(now) {
			return toForm{kind: loginForm, server: a.Session.Server, username: a.Session.Username,
				note: expiredNote(a.Session), isError: true}
		}
		if a.Active {
			return toDashboard{session: a.Session, event: "opened the stored session of " + a.Session.Username}
		}
		// Not its server's active one: make it so first, as Enter does.
		return toAccounts{accounts: msg.accounts, openSelected: true}
	}
	return toAccounts{accounts: msg.accounts, note: note, isError: isError}
}

// expiredNote is the sentence of a session whose refresh token has expired.
func expiredNote(s session) string {
	return "the session of " + s.Username + " has expired: log in again"
}

// chrome is the lines around a screen's body: the banner, the title and its
// empty line, the empty line and the line of the short help.
func (m *Model) chrome() int {
	n := 4
	if m.banner != "" {
		n++
	}
	return n
}

// bodyHeight is how many lines a screen's body has; 0 when unknown.
func (m *Model) bodyHeight() int {
	if m.height <= 0 {
		return 0
	}
	return max(m.height-m.chrome(), 1)
}

// View implements tea.Model: the banner, the title, the active screen, and
// the help at the bottom, fitted to the terminal.
func (m *Model) View() string {
	s := m.deps.styles
	width := m.width
	if width <= 0 {
		width = defaultWidth
	}

	title := "dyorctl"
	var body string
	var keys help.KeyMap
	var fullHelp bool
	if c := m.current(); c != nil {
		title += " · " + c.title()
		keys, fullHelp = c.helpKeys()
		helpLines := 1
		if fullHelp {
			helpLines = lipgloss.Height(m.helpView(keys, true, width))
		}
		height := 0
		if m.height > 0 {
			height = max(m.height-m.chrome()-helpLines+1, 1)
		}
		body = c.view(width, height)
	} else {
		body = "  " + s.muted.Render("reading the stored accounts…") + "\n"
	}

	var top strings.Builder
	if m.banner != "" {
		top.WriteString(s.banner.Render(truncate(m.banner, width)) + "\n")
	}
	top.WriteString(s.title.Render(truncate(title, width)) + "\n\n")
	lines := strings.Split(strings.TrimRight(top.String()+body, "\n"), "\n")

	helpView := ""
	if keys != nil {
		helpView = m.helpView(keys, fullHelp, width)
	}
	// The help sits on the last lines, after at least one empty line; the
	// body gives way when the terminal is too short for both.
	if m.height > 0 {
		avail := max(m.height-lipgloss.Height(helpView)-1, 0)
		if len(lines) > avail {
			lines = lines[:avail]
		}
		for len(lines) < avail {
			lines = append(lines, "")
		}
	}
	lines = append(lines, "", helpView)
	view := strings.Join(lines, "\n")

	// A last guard: cut what is still too wide (or too long), and drop the
	// padding lipgloss adds to the shorter lines.
	fit := s.renderer.NewStyle().MaxWidth(width)
	if m.height > 0 {
		fit = fit.MaxHeight(m.height)
	}
	lines = strings.Split(fit.Render(view), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}

// helpView is the one-line short help, or the full help, within width
// columns. The short help drops its last keys when they do not fit (help's
// own cut lets a key through when even its "…" does not fit); the full help
// puts its keys in fewer, longer columns when its groups do not fit side by
// side, as it must show every key.
func (m *Model) helpView(keys help.KeyMap, full bool, width int) string {
	h := m.help
	h.Width = 0
	if full {
		groups := keys.FullHelp()
		if v := h.FullHelpView(groups); lipgloss.Width(v) <= width {
			return v
		}
		// Fewer, longer columns, in the same order, until they fit.
		var all []key.Binding
		for _, g := range groups {
			all = append(all, g...)
		}
		for n := len(groups) - 1; n > 1; n-- {
			per := (len(all) + n - 1) / n
			var cols [][]key.Binding
			for i := 0; i < len(all); i += per {
				cols = append(cols, all[i:min(i+per, len(all))])
			}
			if v := h.FullHelpView(cols); lipgloss.Width(v) <= width {
				return v
			}
		}
		return h.FullHelpView([][]key.Binding{all})
	}
	short := keys.ShortHelp()
	for n := len(short); n > 0; n-- {
		v := h.ShortHelpView(short[:n])
		if n < len(short) {
			v += " " + h.Styles.Ellipsis.Render(h.Ellipsis)
		}
		if lipgloss.Width(v) <= width {
			return v
		}
	}
	return ""
}

// statusLine is a message under a form or the dashboard, wrapped to the
// width: an error ("✗ …") or a note ("✓ …"). Like everything a screen shows
// that a server or the store may have written (names, session ids,
// messages), it goes through safetext first.
func statusLine(s *styles, width int, text string, isError bool) string {
	mark, style := "✓ ", s.noteText
	if isError {
		mark, style = "✗ ", s.errorText
	}
	wrapped := s.renderer.NewStyle().Width(max(width-4, 10)).Render(safetext.String(text))
	var b strings.Builder
	for i, line := range strings.Split(wrapped, "\n") {
		prefix := "    "
		if i == 0 {
			prefix = "  " + mark
		}
		b.WriteString(style.Render(prefix+strings.TrimRight(line, " ")) + "\n")
	}
	return b.String()
}

// busyLine is the spinner and what runs.
func busyLine(s *styles, width int, spin, what string) string {
	return "  " + spin + " " + s.muted.Render(truncate(safetext.String(what), max(width-6, 1))) + "\n"
}

// truncate cuts s to width columns, ending it with "…" when cut.
func truncate(s string, width int) string {
	if lipgloss.Width(s) <= width {
		return s
	}
	if width <= 0 {
		return ""
	}
	runes := []rune(s)
	for n := len(runes); n > 0; n-- {
		if cut := string(runes[:n]) + "…"; lipgloss.Width(cut) <= width {
			return cut
		}
	}
	return "…"
}
