package tui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/dyor-exchange/dyorctl/client"
	"github.com/dyor-exchange/dyorctl/internal/testutil"
	"github.com/dyor-exchange/dyorctl/mock"
)

// The whole app against the mock, through teatest. The mock, the client and
// the app share one clock, fixed at fixedNow unless a test advances it, so
// the countdowns on screen are the same on every run.

const waitTimeout = 15 * time.Second

// spyStore is a memory token store that remembers every token it held, so
// that a test can look for them on screen.
type spyStore struct {
	client.TokenStore
	mu   sync.Mutex
	seen []string
}

func (s *spyStore) remember(t client.Tokens) {
	if t.IsZero() {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen = append(s.seen, t.Access, t.Refresh)
}

func (s *spyStore) Save(ctx context.Context, t client.Tokens) error {
	s.remember(t)
	return s.TokenStore.Save(ctx, t)
}

func (s *spyStore) Load(ctx context.Context) (client.Tokens, error) {
	t, err := s.TokenStore.Load(ctx)
	s.remember(t)
	return t, err
}

func (s *spyStore) Update(ctx context.Context, fn func(client.Tokens) (client.Tokens, error)) (client.Tokens, error) {
	t, err := s.TokenStore.Update(ctx, func(cur client.Tokens) (client.Tokens, error) {
		s.remember(cur)
		next, err := fn(cur)
		s.remember(next)
		return next, err
	})
	s.remember(t)
	return t, err
}

func (s *spyStore) tokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.seen...)
}

// suiteFindings fail every app test: a client that presents a rotated or
// an expired token, or leaks sessions, is wrong whatever the test checks.
var suiteFindings = []mock.FindingKind{mock.FindingReuse, mock.FindingExpiredToken, mock.FindingSessionLeak}

// app is the app running in teatest against a mock server.
type app struct {
	t         *testing.T
	srv       *mock.Server
	store     *spyStore
	client    *client.Client
	tm        *teatest.TestModel
	rec       *testutil.Frames
	out       bytes.Buffer // everything the program wrote, as read so far
	passwords []string     // typed in, never to be shown
}

type appConfig struct {
	mockOpts []mock.Option
	loggedIn bool // start with a stored session of john@API
	width    int
	height   int
	backoff  backoff // of auto-refresh; zero = the default
}

func startApp(t *testing.T, cfg appConfig) *app {
	t.Helper()
	opts := append([]mock.Option{
		mock.WithBcryptCost(4),
		mock.WithClock(func() time.Time { return fixedNow }),
	}, cfg.mockOpts...)
	srv := mock.Start(t, append([]mock.Option{mock.FailOnFindings(suiteFindings...)}, opts...)...)
	store := &spyStore{TokenStore: client.NewMemoryStore()}
	c, err := client.New(srv.URL, client.WithTokenStore(store), client.WithClock(srv.Now))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.loggedIn {
		minted, err := srv.MintSession("john@API", 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		tokens, err := client.ParseTokens(minted.Access, minted.Refresh)
		if err != nil {
			t.Fatal(err)
		}
		tokens.Username = "john@API"
		if err := store.Save(context.Background(), tokens); err != nil {
			t.Fatal(err)
		}
	}
	if cfg.width == 0 {
		cfg.width, cfg.height = 80, 24
	}
	rec := testutil.NewFrames(New(Options{
		Client:   c,
		renderer: asciiRenderer(),
		now:      srv.Now,
		timeout:  waitTimeout,
		backoff:  cfg.backoff,
	}))
	a := &app{t: t, srv: srv, store: store, client: c, rec: rec, passwords: []string{"honeyBunnies"}}
	a.tm = teatest.NewTestModel(t, rec, teatest.WithInitialTermSize(cfg.width, cfg.height))
	t.Cleanup(func() {
		// Ends the program if the test did not (it failed); a no-op otherwise.
		_ = a.tm.Quit()
	})
	return a
}

// waitFor waits until the screen shows text. It looks at the last view
// drawn rather than at the output, where the renderer writes only the lines
// that changed; it reads the output all the same, to check it at the end.
func (a *app) waitFor(text string) {
	a.t.Helper()
	var seen []byte
	teatest.WaitFor(a.t, a.tm.Output(), func(b []byte) bool {
		seen = b
		return strings.Contains(a.rec.Last(), text)
	}, teatest.WithDuration(waitTimeout), teatest.WithCheckInterval(10*time.Millisecond))
	a.out.Write(seen)
}

// press sends keys, by name or as text.
func (a *app) press(keys ...string) {
	for _, k := range keys {
		a.tm.Send(keyMsg(k))
	}
}

// typeSecret types a password, and remembers it to check it is never shown.
func (a *app) typeSecret(p string) {
	a.passwords = append(a.passwords, p)
	a.press(p)
}

// finish quits with key, waits for the program to end, and checks every
// frame: it fits its size, and no token or password is on it. It returns the
// last view.
func (a *app) finish(key string) string {
	a.t.Helper()
	a.press(key)
	final := a.tm.FinalModel(a.t, teatest.WithFinalTimeout(waitTimeout)).(*testutil.Frames)
	rest, err := io.ReadAll(a.tm.FinalOutput(a.t))
	if err != nil {
		a.t.Fatal(err)
	}
	a.out.Write(rest)

	secrets := a.passwords
	for _, tok := range a.store.tokens() {
		secrets = append(secrets, tok)
		for i := 0; i+16 <= len(tok); i += 4 {
			secrets = append(secrets, tok[i:i+16])
		}
	}
	if len(a.store.tokens()) == 0 && a.srv.Requests() != nil {
		for _, r := range a.srv.Requests() {
			if strings.HasSuffix(r.Path, "/login") && r.Code == 0 {
				a.t.Error("logged in, but the store saw no token")
			}
		}
	}
	frames := final.All()
	seenViews := map[string]bool{}
	for _, f := range frames {
		if seenViews[f.View] {
			continue
		}
		seenViews[f.View] = true
		if f.Width == 0 {
			f.Width = defaultWidth // the size is not known yet
		}
		checkFits(a.t, f.View, f.Width, f.Height)
		for _, s := range secrets {
			if strings.Contains(f.View, s) {
				a.t.Fatalf("a token or password (%q…) is on screen:\n%s", s[:4], f.View)
			}
		}
	}
	for _, s := range secrets {
		if bytes.Contains(a.out.Bytes(), []byte(s)) {
			a.t.Fatalf("a token or password (%q…) is in the output", s[:4])
		}
	}
	a.t.Logf("%d frames, %d distinct, %d bytes of output checked for %d secrets", len(frames), len(seenViews), a.out.Len(), len(secrets))
	return final.Model.View()
}

// requests counts the API requests to route that reached the mock.
func (a *app) requests(route string) int {
	n := 0
	for _, r := range a.srv.Requests() {
		if strings.HasSuffix(r.Path, "/"+route) {
			n++
		}
	}
	return n
}

func (a *app) sessionIDs() []string {
	var ids []string
	for _, s := range a.srv.Sessions() {
		ids = append(ids, s.ID)
	}
	return ids
}

// masked is view without what changes from run to run: the mock's URL (its
// port) and the session ids, replaced by as many '#'.
func (a *app) masked(view string, ids ...string) string {
	view = strings.ReplaceAll(view, a.srv.URL, "http://127.0.0.1:PORT")
	for _, id := range ids {
		view = strings.ReplaceAll(view, id, strings.Repeat("#", len(id)))
	}
	return view
}

func TestAppLoginRefreshLogout(t *testing.T) {
	t.Parallel()
	a := startApp(t, appConfig{})
	a.waitFor("> Log in")
	a.press("enter")
	a.waitFor("Username")
	a.press("john@API", "tab")
	a.typeSecret("honeyBunnies")
	a.press("enter")
	a.waitFor("access expires in 15m 0s")
	a.waitFor("refresh expires in 7d 0h 0m")

	first := a.sessionIDs()
	if len(first) != 1 || !strings.Contains(a.rec.Last(), first[0]) {
		t.Fatalf("sessions %v; screen:\n%s", first, a.rec.Last())
	}
	if stored, err := a.client.Tokens(context.Background()); err != nil || stored.Username != "john@API" || stored.SessionID != first[0] {
		t.Fatalf("stored %+v, %v", stored.SessionID, err)
	}

	a.press("r")
	a.waitFor("session refreshed")
	second := a.sessionIDs()
	if len(second) != 1 || second[0] == first[0] || a.requests("refresh") != 1 {
		t.Fatalf("after r: sessions %v (before %v), %d refreshes", second, first, a.requests("refresh"))
	}
	a.waitFor(second[0])

	a.press("l")
	a.waitFor("logged out")
	if ids := a.sessionIDs(); len(ids) != 0 {
		t.Errorf("sessions after logout: %v", ids)
	}
	if _, err := a.client.Tokens(context.Background()); !errors.Is(err, client.ErrNotLoggedIn) {
		t.Errorf("store after logout: %v", err)
	}
	view := a.finish("q")
	teatest.RequireEqualOutput(t, []byte(a.masked(view)))
}

func TestAppWrongPassword(t *testing.T) {
	t.Parallel()
	a := startApp(t, appConfig{})
	a.waitFor("> Log in")
	a.press("enter")
	a.waitFor("Username")
	a.press("nobody", "tab")
	a.typeSecret("honeyBunnies")
	a.press("enter")
	a.waitFor("no account named nobody")

	a.press("ctrl+u", "john@API", "tab", "ctrl+u") // the focus is on Username
	a.typeSecret("honeyBunnie5")
	a.press("enter")
	a.waitFor("wrong password")
	if _, err := a.client.Tokens(context.Background()); !errors.Is(err, client.ErrNotLoggedIn) {
		t.Errorf("store after a wrong password: %v", err)
	}
	view := a.finish("ctrl+c")
	teatest.RequireEqualOutput(t, []byte(a.masked(view)))
}

func TestAppRegister(t *testing.T) {
	t.Parallel()
	a := startApp(t, appConfig{})
	a.waitFor("> Log in")
	a.press("j", "enter")
	a.waitFor("Confirm password")
	// q is text in a form.
	a.press("quinn", "tab")
	a.typeSecret("password1")
	a.press("tab")
	a.typeSecret("password2")
	a.press("enter")
	a.waitFor("the passwords do not match")
	if n := a.requests("register"); n != 0 {
		t.Fatalf("%d register requests for a broken rule", n)
	}
	a.press("ctrl+u", "password1", "enter")
	a.waitFor("account created, log in")
	a.waitFor("quinn")
	a.typeSecret("password1")
	a.press("enter")
	a.waitFor("access expires in 15m 0s")
	ids := a.sessionIDs()
	if len(ids) != 1 {
		t.Fatalf("sessions %v", ids)
	}
	view := a.finish("q")
	teatest.RequireEqualOutput(t, []byte(a.masked(view, ids...)))
}

func TestAppUsernameTaken(t *testing.T) {
	t.Parallel()
	a := startApp(t, appConfig{})
	a.waitFor("> Log in")
	a.press("down", "enter")
	a.waitFor("Confirm password")
	a.press("john@API", "tab", "honeyBunnies", "tab", "honeyBunnies", "enter")
	a.waitFor("username taken")
	a.press("esc")
	a.waitFor("> Log in")
	a.finish("q")
}

func TestAppHelpToggles(t *testing.T) {
	t.Parallel()
	a := startApp(t, appConfig{loggedIn: true})
	a.waitFor("auto-refresh: off")
	a.press("?")
	a.waitFor("history page up")
	a.press("?")
	a.waitFor("? more")
	if strings.Contains(a.rec.Last(), "history page up") {
		t.Errorf("full help still shown:\n%s", a.rec.Last())
	}
	a.press("a")
	a.waitFor("auto-refresh: on")
	a.press("?")
	a.waitFor("history page up")
	ids := a.sessionIDs()
	view := a.finish("q")
	teatest.RequireEqualOutput(t, []byte(a.masked(view, ids...)))
}

func TestAppResize(t *testing.T) {
	t.Parallel()
	a := startApp(t, appConfig{})
	a.waitFor("> Log in")
	a.tm.Send(tea.WindowSizeMsg{Width: 40, Height: 20})
	a.press("enter")
	a.waitFor("Username")
	a.press(strings.Repeat("long-user-name-", 5), "enter")
	a.waitFor("username must be 3 to 64")
	a.press("esc")
	a.waitFor("> Log in")
	a.tm.Send(tea.WindowSizeMsg{Width: 20, Height: 6})
	a.press("j")
	a.tm.Send(tea.WindowSizeMsg{Width: 100, Height: 30})
	a.press("k")
	a.waitFor("↑/k up • ↓/j down • enter choose • q quit • ? more")
	view := a.finish("q") // finish checks that every frame fit its size
	teatest.RequireEqualOutput(t, []byte(a.masked(view)))
}

func TestAppStartsLoggedIn(t *testing.T) {
	t.Parallel()
	a := startApp(t, appConfig{loggedIn: true})
	a.waitFor("access expires in 15m 0s")
	if ids := a.sessionIDs(); !strings.Contains(a.rec.Last(), ids[0]) {
		t.Errorf("session %s not shown", ids[0])
	}
	if n := len(a.srv.Requests()); n != 0 {
		t.Errorf("%d requests at start: the stored session is read offline", n)
	}
	a.finish("q")
}

func TestAppRevokedSessionOnRefresh(t *testing.T) {
	t.Parallel()
	a := startApp(t, appConfig{loggedIn: true})
	a.waitFor("auto-refresh: off")
	if err := a.srv.RevokeSession(a.sessionIDs()[0]); err != nil {
		t.Fatal(err)
	}
	a.press("r")
	// The login form, for the same account, saying why.
	a.waitFor("the server no longer accepts the session of john@API")
	a.waitFor("> Password")
	a.waitFor("Username          john@API")
	if _, err := a.client.Tokens(context.Background()); !errors.Is(err, client.ErrNotLoggedIn) {
		t.Errorf("store after a rejected refresh: %v", err)
	}
	a.finish("ctrl+c") // q is text in a form
}

func TestAppLogoutServerUnreachable(t *testing.T) {
	t.Parallel()
	a := startApp(t, appConfig{loggedIn: true})
	a.waitFor("auto-refresh: off")
	if err := a.srv.AddFault(mock.Fault{Route: "logout", Drop: true}); err != nil {
		t.Fatal(err)
	}
	a.press("l")
	a.waitFor("logged out locally; the server could not be reached")
	if _, err := a.client.Tokens(context.Background()); !errors.Is(err, client.ErrNotLoggedIn) {
		t.Errorf("store after logout: %v", err)
	}
	a.finish("q")
}

func TestAppAutoRefresh(t *testing.T) {
	t.Parallel()
	a := startApp(t, appConfig{loggedIn: true})
	a.waitFor("auto-refresh: off")
	a.press("a")
	a.waitFor("auto-refresh: on")
	a.waitFor("access expires in 15m 0s")
	// 20 s before the access token expires: within auto-refresh's 30 s.
	if err := a.srv.Advance(14*time.Minute + 40*time.Second); err != nil {
		t.Fatal(err)
	}
	a.waitFor("session refreshed automatically")
	a.waitFor("access expires in 15m 0s")
	if n := a.requests("refresh"); n != 1 {
		t.Errorf("%d refreshes, want 1", n)
	}
	a.finish("q")
}

func TestAppCountdownTicks(t *testing.T) {
	t.Parallel()
	a := startApp(t, appConfig{loggedIn: true})
	a.waitFor("access expires in 15m 0s")
	if err := a.srv.Advance(32 * time.Second); err != nil {
		t.Fatal(err)
	}
	a.waitFor("access expires in 14m 28s")
	a.waitFor("refresh expires in 6d 23h 59m")
	a.finish("q")
}

// historyOrder is the events of the history pane on screen, in order, each
// with its time.
func (a *app) historyOrder() []string {
	a.t.Helper()
	frame := a.rec.Last()
	i := strings.Index(frame, "History")
	if i < 0 {
		a.t.Fatalf("no history on screen:\n%s", frame)
	}
	var events []string
	for _, l := range strings.Split(frame[i:], "\n")[1:] {
		l = strings.TrimSpace(l)
		if len(l) > 9 && l[2] == ':' && l[5] == ':' && l[8] == ' ' {
			events = append(events, l)
		}
	}
	return events
}

// TestAppHistory: a manual refresh, an auto-refresh and a refresh refused by
// a fault of the mock, in the history in that order, with their times.
func TestAppHistory(t *testing.T) {
	t.Parallel()
	a := startApp(t, appConfig{loggedIn: true})
	a.waitFor("auto-refresh: off")
	a.press("r")
	a.waitFor("refreshed by hand")
	a.press("a")
	a.waitFor("auto-refresh: on")
	if err := a.srv.Advance(14*time.Minute + 40*time.Second); err != nil {
		t.Fatal(err)
	}
	a.waitFor("auto-refreshed")
	if err := a.srv.AddFault(mock.Fault{Route: "refresh", Status: 503, Times: 1}); err != nil {
		t.Fatal(err)
	}
	a.press("a", "r") // auto-refresh off: nothing retries behind our back
	a.waitFor("refresh failed: the server failed")
	want := []string{
		"03:04:05 opened the stored session of john@API",
		"03:04:05 refreshed by hand",
		"03:18:45 auto-refreshed",
		"03:18:45 refresh failed: the server failed: ",
	}
	got := a.historyOrder()
	if len(got) != len(want) {
		t.Fatalf("history %q, want %q", got, want)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("event %d: %q, want %q…", i, got[i], want[i])
		}
	}
	if ids := a.sessionIDs(); len(ids) != 1 {
		t.Errorf("sessions after a refused refresh: %v (the user stays logged in)", ids)
	}
	a.finish("q")
}

// TestAppAutoRefreshRetries: auto-refresh meets a server that cannot be
// reached, says so in the history, and tries again after a back-off until
// it succeeds, never logging out.
func TestAppAutoRefreshRetries(t *testing.T) {
	t.Parallel()
	a := startApp(t, appConfig{loggedIn: true, backoff: backoff{first: 10 * time.Millisecond, most: 40 * time.Millisecond}})
	a.waitFor("auto-refresh: off")
	if err := a.srv.AddFault(mock.Fault{Route: "refresh", Drop: true, Times: 3}); err != nil {
		t.Fatal(err)
	}
	a.press("a")
	a.waitFor("auto-refresh: on")
	if err := a.srv.Advance(14*time.Minute + 40*time.Second); err != nil {
		t.Fatal(err)
	}
	a.waitFor("auto-refreshed")
	var tries []string
	for _, e := range a.historyOrder() {
		if strings.Contains(e, "refresh failed: cannot reach the server") {
			tries = append(tries, e[strings.LastIndex(e, "retrying in "):])
		}
	}
	// The test's back-off is in milliseconds: "0s" each.
	if fmt.Sprint(tries) != "[retrying in 0s retrying in 0s retrying in 0s]" {
		t.Errorf("tries %q", tries)
	}
	if n := a.requests("refresh"); n != 4 {
		t.Errorf("%d refresh requests, want 4 (3 dropped, 1 answered)", n)
	}
	if _, err := a.client.Tokens(context.Background()); err != nil {
		t.Errorf("logged out by a network failure: %v", err)
	}
	a.finish("q")
}
