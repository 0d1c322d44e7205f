package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"

	"github.com/dyor-exchange/dyorctl/client"
)

// newTestRoot is the root model with no store (its commands are not run),
// a fixed clock and the fixed colour profile, after the terminal's size and
// the stored accounts have arrived.
func newTestRoot(t *testing.T, opts Options, width, height int, stored accountsMsg) *Model {
	t.Helper()
	if opts.renderer == nil {
		opts.renderer = asciiRenderer()
	}
	opts.now = func() time.Time { return fixedNow }
	if opts.Server == "" {
		opts.Server = testServer
	}
	m := newModel(context.Background(), opts)
	send(m, tea.WindowSizeMsg{Width: width, Height: height}, stored)
	return m
}

var (
	notLoggedIn = accountsMsg{startup: true}
	loggedIn    = accountsMsg{startup: true, accounts: []storedAccount{{Active: true, Session: testSession()}}}
	// noneLeft is the accounts read after a logout: none.
	noneLeft = accountsMsg{}
	// threeAccounts are two servers' accounts: the active one of each, and
	// an expired one.
	threeAccounts = accountsMsg{startup: true, accounts: func() []storedAccount {
		other := testSession()
		other.Server, other.Username = "http://127.0.0.1:9090", "quinn"
		expired := testSession()
		expired.Username, expired.AccessExpiresAt, expired.RefreshExpiresAt = "alice", fixedNow.Add(-time.Hour), fixedNow.Add(-time.Minute)
		return []storedAccount{{Session: expired}, {Active: true, Session: testSession()}, {Active: true, Session: other}}
	}()}
)

// send gives the model each message in turn; messages may be key names.
func send(m *Model, msgs ...any) {
	for _, msg := range msgs {
		if k, ok := msg.(string); ok {
			msg = keyMsg(k)
		}
		m.Update(msg)
	}
}

func TestRootStartup(t *testing.T) {
	t.Parallel()
	expired := testSession()
	expired.RefreshExpiresAt = fixedNow
	inactive := loggedIn.accounts[0]
	inactive.Active = false
	tests := []struct {
		name   string
		stored accountsMsg
		screen screenID
		note   string
	}{
		{"none", notLoggedIn, screenMenu, ""},
		{"one valid", loggedIn, screenDashboard, ""},
		{"one expired", accountsMsg{startup: true, accounts: []storedAccount{{Active: true, Session: expired}}}, screenLogin, "the session of john@API has expired: log in again"},
		{"one valid, not active", accountsMsg{startup: true, accounts: []storedAccount{inactive}}, screenAccounts, ""},
		{"three", threeAccounts, screenAccounts, ""},
		{"unreadable store", accountsMsg{startup: true, err: errors.New("credentials.json: not a credentials file")}, screenMenu, "cannot read the stored accounts: credentials.json: not a credentials file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newTestRoot(t, Options{}, 80, 24, tt.stored)
			note := m.menu.note
			if m.active == screenLogin {
				note = m.login.err
			}
			if m.active != tt.screen || note != tt.note {
				t.Errorf("screen %d note %q, want %d %q", m.active, note, tt.screen, tt.note)
			}
			// A second answer (there is none) changes nothing.
			send(m, notLoggedIn)
			if m.active != tt.screen {
				t.Error("a late answer changed the screen")
			}
		})
	}
	// The one valid account that is not its server's active one is made so,
	// then opened.
	m := newTestRoot(t, Options{}, 80, 24, accountsMsg{startup: true, accounts: []storedAccount{inactive}})
	if m.accounts.busy == "" {
		t.Fatal("not opening the one account")
	}
	send(m, accountOpenedMsg{session: inactive.Session})
	if m.active != screenDashboard || m.dashboard.session.Username != "john@API" {
		t.Errorf("after the switch: screen %d", m.active)
	}

	m = New(Options{renderer: asciiRenderer()})
	if m.active != screenLoading || !strings.Contains(m.View(), "reading the stored accounts") {
		t.Errorf("before the stored accounts are read:\n%s", m.View())
	}
	if msg := m.Init()(); msg.(accountsMsg).err == nil {
		t.Error("no store: no error")
	}
}

func TestRootCtrlCQuitsEverywhere(t *testing.T) {
	t.Parallel()
	for name, setup := range map[string][]any{
		"loading":   nil,
		"menu":      {notLoggedIn},
		"login":     {notLoggedIn, "enter"},
		"register":  {notLoggedIn, "j", "enter"},
		"dashboard": {loggedIn},
		"busy form": {notLoggedIn, "enter", "john@API", "tab", "honeyBunnies", "enter"},
	} {
		m := New(Options{renderer: asciiRenderer(), now: func() time.Time { return fixedNow }})
		send(m, setup...)
		if _, cmd := m.Update(keyMsg("ctrl+c")); !isQuit(cmd) {
			t.Errorf("%s: ctrl+c does not quit", name)
		}
	}
}

func TestRootNavigation(t *testing.T) {
	t.Parallel()
	m := newTestRoot(t, Options{}, 80, 24, notLoggedIn)
	send(m, "j", "enter")
	if m.active != screenRegister || m.register.focus != fieldUsername {
		t.Fatalf("screen %d", m.active)
	}
	// Keys go to the active screen only: q is text here.
	send(m, "quinn", "tab", "password1", "tab", "password1", "enter")
	if !m.register.busy || m.register.submitted != "quinn" {
		t.Fatalf("not submitted: %+v", m.register.err)
	}
	send(m, registerResultMsg{username: "quinn"})
	if m.active != screenLogin || m.login.inputs[fieldUsername].Value() != "quinn" || m.login.note != "account created, log in" {
		t.Fatalf("after register: screen %d, username %q", m.active, m.login.inputs[fieldUsername].Value())
	}
	if m.register.inputs[fieldUsername].Value() != "" {
		t.Error("the register form kept its values")
	}
	send(m, "password1", "enter", loginResultMsg{session: testSession()})
	if m.active != screenDashboard {
		t.Fatalf("after login: screen %d", m.active)
	}
	// A key the menu knows goes to the dashboard only.
	send(m, "l")
	if m.dashboard.busy != loggingOut {
		t.Fatal("l did not log out")
	}
	send(m, logoutResultMsg{})
	if m.active != screenLoading {
		t.Fatalf("after logout: screen %d, not reading the accounts", m.active)
	}
	send(m, noneLeft)
	if m.active != screenMenu || m.menu.note != "logged out" {
		t.Fatalf("after logout: screen %d note %q", m.active, m.menu.note)
	}
	// The dashboard's ticks and results do not reach the menu.
	send(m, dashboardTickMsg{id: m.dashboard.tickID}, refreshResultMsg{session: testSession()})
	if m.active != screenMenu {
		t.Fatal("a dashboard message moved the menu")
	}
	send(m, "enter", "esc", noneLeft)
	if m.active != screenMenu || m.menu.note != "" {
		t.Errorf("esc: screen %d note %q", m.active, m.menu.note)
	}
}

// screens are the states the golden files show, as messages from the start.
var screens = []struct {
	name string
	opts Options
	msgs []any
}{
	{"accounts", Options{}, []any{threeAccounts}},
	{"accounts_help", Options{}, []any{threeAccounts, "?"}},
	{"accounts_filter", Options{}, []any{threeAccounts, "/", "qu"}},
	{"accounts_confirm_logout", Options{}, []any{threeAccounts, "j", "d"}},
	{"menu", Options{}, []any{notLoggedIn}},
	{"menu_logged_out", Options{}, []any{loggedIn, "l", logoutResultMsg{}, noneLeft}},
	{"menu_help", Options{}, []any{notLoggedIn, "?"}},
	{"login", Options{}, []any{notLoggedIn, "enter", "john@API"}},
	{"login_wrong_password", Options{}, []any{notLoggedIn, "enter", "john@API", "tab", "honeyBunnie", "enter", loginResultMsg{err: client.ErrWrongPassword}}},
	{"login_after_register", Options{}, []any{notLoggedIn, "j", "enter", "quinn", "tab", "password1", "tab", "password1", "enter", registerResultMsg{username: "quinn"}}},
	{"register_mismatch", Options{}, []any{notLoggedIn, "j", "enter", "quinn", "tab", "password1", "tab", "password2", "enter"}},
	{"register_bad_username", Options{}, []any{notLoggedIn, "j", "enter", "john doe", "enter"}},
	{"dashboard", Options{}, []any{loggedIn}},
	{"dashboard_help", Options{}, []any{loggedIn, "?"}},
	{"dashboard_history", Options{}, []any{loggedIn,
		"r", refreshResultMsg{session: testSession()},
		"r", refreshResultMsg{session: testSession(), auto: true},
		"r", refreshResultMsg{err: &client.APIError{Status: 503, Code: 500000, Message: "fault injected"}},
	}},
	{"login_revoked", Options{}, []any{loggedIn, "r", refreshResultMsg{err: client.ErrSessionInvalid}}},
	{"login_bad_server", Options{}, []any{notLoggedIn, "enter", "shift+tab", "ctrl+u", "127.0.0.1:8080", "enter"}},
	{"register", Options{}, []any{notLoggedIn, "j", "enter"}},
	{"dashboard_auto_refresh_error", Options{}, []any{loggedIn, "a", "r", refreshResultMsg{err: &url.Error{Op: "Get", URL: "x", Err: syscall.ECONNREFUSED}}}},
	{"dashboard_banner_long", Options{
		Banner: "demo: in-process mock, log in as john@API / honeyBunnies",
		Server: "https://a-very-long-host-name.staging.dyorbackend.example.com:8443/some/prefix",
	}, []any{accountsMsg{startup: true, accounts: []storedAccount{{Active: true, Session: func() session {
		s := testSession()
		s.Username = strings.Repeat("verylongusername", 4)
		s.Server = "https://a-very-long-host-name.staging.dyorbackend.example.com:8443/some/prefix"
		return s
	}()}}}}},
}

func TestGoldenScreens(t *testing.T) {
	t.Parallel()
	for _, sc := range screens {
		for _, size := range [][2]int{{80, 24}, {60, 20}, {40, 20}} {
			t.Run(fmt.Sprintf("%s_%dx%d", sc.name, size[0], size[1]), func(t *testing.T) {
				t.Parallel()
				m := newTestRoot(t, sc.opts, size[0], size[1], accountsMsg{})
				m.active = screenLoading
				send(m, sc.msgs...)
				view := m.View()
				checkFits(t, view, size[0], size[1])
				teatest.RequireEqualOutput(t, []byte(view))
			})
		}
	}
}

// TestKeysTypedFast: keys read together are handled one by one, on the
// screen each leads to; a paste is text.
func TestKeysTypedFast(t *testing.T) {
	t.Parallel()
	m := newTestRoot(t, Options{}, 80, 24, threeAccounts)
	send(m, "/9090")
	if !m.accounts.filtering || m.accounts.filter.Value() != "9090" || len(m.accounts.shown) != 1 {
		t.Fatalf("/9090 typed fast: filtering %v, filter %q", m.accounts.filtering, m.accounts.filter.Value())
	}
	m = newTestRoot(t, Options{}, 80, 24, threeAccounts)
	send(m, "nq") // n opens the login form, where q is text
	if m.active != screenLogin || m.login.inputs[fieldUsername].Value() != "q" {
		t.Fatalf("nq: screen %d, username %q", m.active, m.login.inputs[fieldUsername].Value())
	}
	m = newTestRoot(t, Options{}, 80, 24, threeAccounts)
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("/x"), Paste: true})
	if m.accounts.filtering {
		t.Error("a paste was taken for keys")
	}
}

// TestResizeReflows: every screen drawn at one size and then resized is the
// screen drawn at the new size from the start.
func TestResizeReflows(t *testing.T) {
	t.Parallel()
	for _, sc := range screens {
		for _, sizes := range [][2][2]int{{{80, 24}, {60, 20}}, {{60, 20}, {80, 24}}, {{40, 20}, {80, 24}}} {
			from, to := sizes[0], sizes[1]
			resized := newTestRoot(t, sc.opts, from[0], from[1], accountsMsg{})
			resized.active = screenLoading
			send(resized, sc.msgs...)
			send(resized, tea.WindowSizeMsg{Width: to[0], Height: to[1]})
			fresh := newTestRoot(t, sc.opts, to[0], to[1], accountsMsg{})
			fresh.active = screenLoading
			send(fresh, sc.msgs...)
			if got, want := resized.View(), fresh.View(); got != want {
				t.Errorf("%s resized from %v to %v:\n%s\nwant\n%s", sc.name, from, to, got, want)
			}
		}
	}
}

func TestViewFitsAnySize(t *testing.T) {
	t.Parallel()
	for _, sc := range screens {
		for _, size := range [][2]int{{120, 40}, {80, 24}, {60, 15}, {40, 20}, {30, 10}, {20, 5}} {
			m := newTestRoot(t, sc.opts, size[0], size[1], accountsMsg{})
			m.active = screenLoading
			send(m, sc.msgs...)
			view := m.View()
			if lines := strings.Split(view, "\n"); size[1] >= 10 && lines[len(lines)-1] == "" {
				t.Errorf("%s at %v: no help line:\n%s", sc.name, size, view)
			}
			t.Run(fmt.Sprintf("%s_%dx%d", sc.name, size[0], size[1]), func(t *testing.T) {
				checkFits(t, view, size[0], size[1])
			})
		}
	}
}

// TestNoColor draws every screen with a renderer like the one Run makes for
// a colour terminal, and checks that NO_COLOR leaves no escape sequence, while
// without it there are colours (so the test can fail).
func TestNoColor(t *testing.T) {
	t.Setenv("TERM", "xterm-256color")
	t.Setenv("COLORTERM", "truecolor")
	for _, noColor := range []string{"", "1"} {
		t.Setenv("NO_COLOR", noColor)
		escapes := 0
		for _, sc := range screens {
			opts := sc.opts
			// As newModel makes it for a terminal output; WithTTY stands in
			// for the terminal.
			opts.renderer = lipgloss.NewRenderer(io.Discard, termenv.WithTTY(true))
			m := newTestRoot(t, opts, 80, 24, accountsMsg{})
			m.active = screenLoading
			send(m, sc.msgs...)
			view := m.View()
			n := strings.Count(view, "\x1b")
			escapes += n
			if noColor != "" && n > 0 {
				t.Errorf("NO_COLOR: %s has escape sequences: %q", sc.name, view)
			}
		}
		if noColor == "" && escapes == 0 {
			t.Error("without NO_COLOR no colours either: the test proves nothing")
		}
	}
}

func TestErrorText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want string
	}{
		{&client.APIError{Status: 401, Code: 401005, Message: "wrong password"}, "wrong password"},
		{fmt.Errorf("login: %w", client.ErrAccountNotFound), "no account named bob"},
		{client.ErrAccountLocked, "account locked"},
		{client.ErrUsernameTaken, "username taken"},
		{client.ErrSessionInvalid, "session expired, log in again"},
		{&url.Error{Op: "Post", URL: "http://x/api/v1/account/login", Err: syscall.ECONNREFUSED}, "cannot reach the server: connection refused"},
		{fmt.Errorf("login: %w", &url.Error{Op: "Post", URL: "http://x", Err: context.DeadlineExceeded}), "cannot reach the server: it did not answer in time"},
		{fmt.Errorf("x: %w", &client.APIError{Status: 400, Code: 400002, Message: "password must be 8 to 72 bytes long"}), "the server refused it: password must be 8 to 72 bytes long"},
		{errors.New("something else"), "something else"},
	}
	for _, tt := range tests {
		if got := errorText(tt.err, "bob"); got != tt.want {
			t.Errorf("errorText(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestTruncate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s     string
		width int
		want  string
	}{
		{"john@API", 8, "john@API"},
		{"john@API", 7, "john@A…"},
		{"日本語テキスト", 7, "日本語…"},
		{"abc", 1, "…"},
		{"abc", 0, ""},
	}
	for _, tt := range tests {
		if got := truncate(tt.s, tt.width); got != tt.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tt.s, tt.width, got, tt.want)
		}
	}
}

// TestHostileTextIsCleaned: names, session ids and messages a server or the
// store wrote reach the screen without their escape sequences.
func TestHostileTextIsCleaned(t *testing.T) {
	t.Parallel()
	hostile := testSession()
	hostile.SessionID = "sid\x1b]0;pwned\x07"
	hostile.Username = "john\x1b[2J"
	hostile.Server = "http://127.0.0.1:8080/\u202eevil"
	one := []storedAccount{{Active: true, Session: hostile}}
	for name, msgs := range map[string][]any{
		"dashboard": {accountsMsg{startup: true, accounts: one}, "r", refreshResultMsg{err: &client.APIError{Status: 503, Message: "boom\x1b[31m"}}},
		"accounts":  {accountsMsg{startup: true, accounts: append(one, threeAccounts.accounts...)}, "d"},
		"login":     {accountsMsg{startup: true, accounts: one}, "r", refreshResultMsg{err: client.ErrSessionInvalid}},
	} {
		m := newTestRoot(t, Options{}, 80, 24, accountsMsg{})
		m.active = screenLoading
		send(m, msgs...)
		v := m.View()
		if strings.ContainsAny(v, "\x1b\x07\u202e") {
			t.Errorf("%s: hostile text on screen: %q", name, v)
		}
		if !strings.Contains(v, "john") {
			t.Errorf("%s: the name is gone altogether:\n%s", name, v)
		}
	}
}
