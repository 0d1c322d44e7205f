package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/dyor-exchange/dyorctl/client"
	"github.com/dyor-exchange/dyorctl/credstore"
	"github.com/dyor-exchange/dyorctl/internal/testutil"
	"github.com/dyor-exchange/dyorctl/mock"
	"github.com/dyor-exchange/dyorctl/tui"
)

// The TUI's part of the leak test: the app (tui.New) driven through teatest
// against an in-process mock whose logger writes to a buffer, with the
// CLI's file credential store. Every frame the app draws, everything it
// writes to its terminal, the mock's log and journal, and the config dir
// are recorded in the ledger; every token that passes through the store is
// a secret.

const tuiWait = 15 * time.Second

// spyStore is a token store that records in the ledger every token it
// holds, so that the scan knows them.
type spyStore struct {
	client.TokenStore
	l *ledger

	mu   sync.Mutex
	sids map[string]bool
}

func (s *spyStore) remember(t client.Tokens, how string) {
	if t.IsZero() {
		return
	}
	s.l.token("access token of "+t.Username+" in the TUI's store ("+how+")", t.Access)
	s.l.token("refresh token of "+t.Username+" in the TUI's store ("+how+")", t.Refresh)
	s.mu.Lock()
	s.sids[t.SessionID] = true
	s.mu.Unlock()
}

func (s *spyStore) Save(ctx context.Context, t client.Tokens) error {
	s.remember(t, "saved")
	return s.TokenStore.Save(ctx, t)
}

func (s *spyStore) Load(ctx context.Context) (client.Tokens, error) {
	t, err := s.TokenStore.Load(ctx)
	s.remember(t, "loaded")
	return t, err
}

func (s *spyStore) Update(ctx context.Context, fn func(client.Tokens) (client.Tokens, error)) (client.Tokens, error) {
	t, err := s.TokenStore.Update(ctx, func(cur client.Tokens) (client.Tokens, error) {
		s.remember(cur, "updated")
		next, err := fn(cur)
		s.remember(next, "updated")
		return next, err
	})
	s.remember(t, "updated")
	return t, err
}

// tuiDriver types into the app and waits for what it draws.
type tuiDriver struct {
	t   *testing.T
	tm  *teatest.TestModel
	rec *testutil.Frames
	out testutil.SyncBuffer // the program's output, as read so far
}

// press sends keys by name, or text.
func (d *tuiDriver) press(keys ...string) {
	special := map[string]tea.KeyType{
		"enter": tea.KeyEnter, "tab": tea.KeyTab, "esc": tea.KeyEsc,
		"down": tea.KeyDown, "ctrl+u": tea.KeyCtrlU,
	}
	for _, k := range keys {
		if kt, ok := special[k]; ok {
			d.tm.Send(tea.KeyMsg{Type: kt})
		} else {
			d.tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)})
		}
	}
}

// until waits for cond on the last frame drawn, reading the program's
// output meanwhile (teatest fails the test after tuiWait).
func (d *tuiDriver) until(cond func(frame string) bool) {
	d.t.Helper()
	var seen []byte
	teatest.WaitFor(d.t, d.tm.Output(), func(b []byte) bool {
		seen = b
		return cond(d.rec.Last())
	}, teatest.WithDuration(tuiWait), teatest.WithCheckInterval(5*time.Millisecond))
	d.out.Write(seen)
}

// waitFor waits until the screen shows text.
func (d *tuiDriver) waitFor(text string) {
	d.t.Helper()
	d.until(func(frame string) bool { return strings.Contains(frame, text) })
}

func tuiFlow(t *testing.T, l *ledger) {
	pw := func(label string, n int) string {
		p := randomPassword(t, n)
		l.password(label, p)
		return p
	}
	var (
		pwUser    = pw("of tuiuser (seeded, typed in the TUI)", 20)
		wrongUser = pw("wrong for tuiuser, typed in the TUI", 20)
		pwUnknown = pw("typed in the TUI for the unknown account", 20)
		pwNew     = pw("of tuinew (registered in the TUI)", 22)
		pwDiffer  = pw("typed in the TUI's confirm field, not matching", 22)
		pwTaken   = pw("typed in the TUI to register the taken name tuiuser", 20)
		tooLong   = pw("too long (80 bytes), typed in the TUI", 80)
	)

	var logs testutil.SyncBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := mock.Start(t, mock.WithBcryptCost(4), mock.WithLogger(logger),
		mock.WithSeed("tuiuser", pwUser), mock.WithLockout(3, time.Minute))
	dir := filepath.Join(t.TempDir(), "dyorctl")
	st, err := credstore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	spy := &spyStore{TokenStore: st.ForServer(srv.URL), l: l, sids: map[string]bool{}}
	c, err := client.New(srv.URL, client.WithTokenStore(spy))
	if err != nil {
		t.Fatal(err)
	}
	d := &tuiDriver{t: t, rec: testutil.NewFrames(tui.New(tui.Options{Client: c, Output: io.Discard}))}
	d.tm = teatest.NewTestModel(t, d.rec, teatest.WithInitialTermSize(80, 24))
	t.Cleanup(func() { _ = d.tm.Quit() })
	requests := func(route string, status int) int {
		n := 0
		for _, r := range srv.Requests() {
			if strings.HasSuffix(r.Path, "/"+route) && r.Status == status {
				n++
			}
		}
		return n
	}
	login := func(user, password string) {
		d.waitFor("> Log in")
		d.press("enter")
		d.waitFor("Username")
		d.press(user, "tab", password, "enter")
	}

	// Rejected: a wrong password, an unknown account, a password too long.
	login("tuiuser", wrongUser)
	d.waitFor("wrong password")
	d.press("esc")
	login("nobody-tui", pwUnknown)
	d.waitFor("no account named nobody-tui")
	d.press("esc")
	login("tuiuser", tooLong)
	d.waitFor("password must be 8 to 72 bytes long")
	d.press("esc")

	// A session: login, refresh, a refresh the server fails, a refresh of
	// a revoked session.
	login("tuiuser", pwUser)
	d.waitFor("access expires in")
	d.press("r")
	d.until(func(frame string) bool {
		return requests("refresh", 200) == 1 && strings.Contains(frame, "session refreshed")
	})
	if err := srv.AddFault(mock.Fault{Route: "refresh", Status: 503, Times: 1}); err != nil {
		t.Fatal(err)
	}
	d.press("r")
	d.waitFor("the server failed")
	sessions := srv.Sessions()
	if len(sessions) != 1 {
		t.Fatalf("%d live sessions, want 1", len(sessions))
	}
	if err := srv.RevokeSession(sessions[0].ID); err != nil {
		t.Fatal(err)
	}
	d.press("r")
	d.waitFor("the server no longer accepts the session of tuiuser")
	d.press("esc") // the login form, filled in: back to the menu

	// Login and logout.
	login("tuiuser", pwUser)
	d.waitFor("access expires in")
	d.press("l")
	d.waitFor("logged out")

	// Register: passwords that do not match, then an account, then its
	// login; a logout the server cannot answer; a taken username.
	d.waitFor("> Log in")
	d.press("down", "enter")
	d.waitFor("Confirm password")
	d.press("tuinew", "tab", pwNew, "tab", pwDiffer, "enter")
	d.waitFor("the passwords do not match")
	d.press("ctrl+u", pwNew, "enter")
	d.waitFor("account created, log in")
	d.press(pwNew, "enter")
	d.waitFor("access expires in")
	if err := srv.AddFault(mock.Fault{Route: "logout", Drop: true, Times: 1}); err != nil {
		t.Fatal(err)
	}
	d.press("l")
	d.waitFor("logged out locally")
	d.press("down", "enter")
	d.waitFor("Confirm password")
	d.press("tuiuser", "tab", pwTaken, "tab", pwTaken, "enter")
	d.waitFor("username taken")
	d.press("esc")
	d.waitFor("> Log in")

	d.press("q")
	final := d.tm.FinalModel(t, teatest.WithFinalTimeout(tuiWait)).(*testutil.Frames)
	rest, err := io.ReadAll(d.tm.FinalOutput(t, teatest.WithFinalTimeout(tuiWait)))
	if err != nil {
		t.Fatal(err)
	}
	d.out.Write(rest)

	distinct := map[string]bool{}
	frames := final.All()
	for i, f := range frames {
		if distinct[f.View] {
			continue
		}
		distinct[f.View] = true
		l.record(capture{source: "TUI (teatest)", channel: fmt.Sprintf("frame %d", i), text: f.View})
	}
	l.record(capture{source: "TUI (teatest)", channel: "terminal output", text: d.out.String()})
	l.record(capture{source: "TUI's mock (in process)", channel: "log (slog JSON, debug)", text: logs.String()})
	journal, err := json.Marshal(srv.Requests())
	if err != nil {
		t.Fatal(err)
	}
	l.record(capture{source: "TUI's mock (in process)", channel: "journal (Requests)", text: string(journal)})
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err == nil {
			l.record(capture{source: "TUI", channel: "config dir file " + e.Name(), text: string(data), tokenStore: true})
		}
	}

	// Every session the server issued went through the spy.
	issued := requests("login", 200) + requests("refresh", 200)
	spy.mu.Lock()
	seen := len(spy.sids)
	spy.mu.Unlock()
	if seen != issued {
		t.Errorf("the mock issued %d token pairs, the TUI's store saw %d sessions: the scan would miss tokens", issued, seen)
	}
	if !strings.Contains(logs.String(), `"msg":"request"`) {
		t.Error("the mock logged no request at debug: the log channel is not what it seems")
	}
	t.Logf("TUI: %d frames (%d distinct), %d bytes of terminal output, %d API requests, %d token pairs issued",
		len(frames), len(distinct), len(d.out.String()), len(srv.Requests()), issued)
}
