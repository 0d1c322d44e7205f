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
)

// Options configure the app.
type Options struct {
	// Client talks to the server, and is bound to the token store: the CLI's
	// file store, or a memory store for the demo. Required.
	Client *client.Client
	// Server is the server URL shown on the dashboard; empty means
	// Client.BaseURL().
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
	if opts.Client == nil {
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

// screen is which screen is active.
type screen int

const (
	screenLoading screen = iota // reading the stored session
	screenMenu
	screenLogin
	screenRegister
	screenDashboard
)

// Model is the app's root model. It routes: Ctrl-C and the window size
// first, then navigation between screens, then every other message to the
// active screen only.
type Model struct {
	deps   deps
	banner string
	help   help.Model

	width, height int // 0 until the terminal's size is known

	active    screen
	menu      menuModel
	login     formModel
	register  formModel
	dashboard dashboardModel
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
	server := opts.Server
	if server == "" && opts.Client != nil {
		server = opts.Client.BaseURL()
	}
	timeout := opts.timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	d := deps{
		ctx:     ctx,
		client:  opts.Client,
		server:  server,
		now:     now,
		timeout: timeout,
		styles:  newStyles(r),
	}
	return &Model{
		deps:      d,
		banner:    opts.Banner,
		help:      d.styles.newHelp(),
		active:    screenLoading,
		menu:      newMenu(d),
		login:     newForm(d, loginForm),
		register:  newForm(d, registerForm),
		dashboard: newDashboard(d),
	}
}

// Init reads the stored session: a valid one opens the dashboard, otherwise
// the menu.
func (m *Model) Init() tea.Cmd {
	return loadSessionCmd(m.deps)
}

// Update implements tea.Model.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyMsg:
		if key.Matches(msg, quitKey) {
			return m, tea.Quit
		}
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.login = m.login.setWidth(msg.Width)
		m.register = m.register.setWidth(msg.Width)
		return m, nil
	case storedSessionMsg:
		if m.active != screenLoading {
			return m, nil
		}
		switch {
		case errors.Is(msg.err, client.ErrNotLoggedIn):
			return m.show(toMenu{})
		case msg.err != nil:
			return m.show(toMenu{note: "cannot read the stored session: " + msg.err.Error(), isError: true})
		case !msg.session.valid(m.deps.now()):
			return m.show(toMenu{note: sessionExpiredNote, isError: true})
		}
		return m.show(toDashboard{session: msg.session})
	}

	var cmd tea.Cmd
	var goTo any
	switch m.active {
	case screenMenu:
		m.menu, cmd = m.menu.update(msg)
		goTo, m.menu.goTo = m.menu.goTo, nil
	case screenLogin:
		m.login, cmd = m.login.update(msg)
		goTo, m.login.goTo = m.login.goTo, nil
	case screenRegister:
		m.register, cmd = m.register.update(msg)
		goTo, m.register.goTo = m.register.goTo, nil
	case screenDashboard:
		m.dashboard, cmd = m.dashboard.update(msg)
		goTo, m.dashboard.goTo = m.dashboard.goTo, nil
	}
	if goTo != nil {
		var showCmd tea.Cmd
		m, showCmd = m.show(goTo)
		cmd = tea.Batch(cmd, showCmd)
	}
	return m, cmd
}

// show switches to the screen goTo asks for.
func (m *Model) show(goTo any) (*Model, tea.Cmd) {
	var cmd tea.Cmd
	switch goTo := goTo.(type) {
	case toMenu:
		m.active = screenMenu
		m.menu = m.menu.show(goTo.note, goTo.isError)
	case toForm:
		if goTo.kind == registerForm {
			m.active = screenRegister
			m.register, cmd = m.register.show(goTo.username, goTo.note)
		} else {
			m.active = screenLogin
			m.login, cmd = m.login.show(goTo.username, goTo.note)
		}
	case toDashboard:
		m.active = screenDashboard
		m.dashboard, cmd = m.dashboard.show(goTo.session, goTo.note)
	}
	return m, cmd
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
	switch m.active {
	case screenLoading:
		body = "  " + s.muted.Render("reading the stored session…") + "\n"
	case screenMenu:
		title += " · " + m.menu.title()
		body = m.menu.view(width)
		keys, fullHelp = m.menu.helpKeys()
	case screenLogin:
		title += " · " + m.login.title()
		body = m.login.view(width)
		keys, fullHelp = m.login.helpKeys()
	case screenRegister:
		title += " · " + m.register.title()
		body = m.register.view(width)
		keys, fullHelp = m.register.helpKeys()
	case screenDashboard:
		title += " · " + m.dashboard.title()
		body = m.dashboard.view(width)
		keys, fullHelp = m.dashboard.helpKeys()
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
// puts its columns under each other when they do not fit side by side, as it
// must show every key.
func (m *Model) helpView(keys help.KeyMap, full bool, width int) string {
	h := m.help
	h.Width = 0
	if full {
		groups := keys.FullHelp()
		if v := h.FullHelpView(groups); lipgloss.Width(v) <= width {
			return v
		}
		var all []key.Binding
		for _, g := range groups {
			all = append(all, g...)
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
// width: an error ("✗ …") or a note ("✓ …").
func statusLine(s *styles, width int, text string, isError bool) string {
	mark, style := "✓ ", s.noteText
	if isError {
		mark, style = "✗ ", s.errorText
	}
	wrapped := s.renderer.NewStyle().Width(max(width-4, 10)).Render(text)
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
	return "  " + spin + " " + s.muted.Render(truncate(what, max(width-6, 1))) + "\n"
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
