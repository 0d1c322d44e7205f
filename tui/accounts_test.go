package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/bubbles/key"
)

// shownAccounts is the accounts screen of threeAccounts at 80x24: alice
// (expired) and john@API (active) on testServer, quinn (active) on another.
func shownAccounts(t *testing.T) *accountsModel {
	t.Helper()
	m := newAccounts(testDeps(fixedNow))
	m.setSize(80, 19)
	m.show(threeAccounts.accounts, "", false)
	return m
}

// cursorRow is the line of the view with the cursor's mark.
func cursorRow(t *testing.T, m *accountsModel) string {
	t.Helper()
	for _, l := range strings.Split(m.view(80, 19), "\n") {
		if strings.HasPrefix(strings.TrimLeft(l, " "), "> ") {
			return l
		}
	}
	t.Fatalf("no cursor in\n%s", m.view(80, 19))
	return ""
}

func TestAccountsListsEveryAccount(t *testing.T) {
	t.Parallel()
	m := shownAccounts(t)
	v := m.view(80, 19)
	for _, want := range []string{
		"alice              expired expired    expired",
		"> * http://127.0.0.1:8080       john@API           14m 32s 6d 23h 59m valid",
		"  * http://127.0.0.1:9090       quinn              14m 32s 6d 23h 59m valid",
	} {
		if !strings.Contains(v, want) {
			t.Errorf("no %q in\n%s", want, v)
		}
	}
	// The countdowns follow the clock.
	m.deps.now = func() time.Time { return fixedNow.Add(32 * time.Second) }
	m.update(accountsTickMsg{id: m.tickID})
	if !strings.Contains(m.view(80, 19), "14m 0s  6d 23h 58m") {
		t.Errorf("countdowns not moved:\n%s", m.view(80, 19))
	}
	if cmd, _ := m.update(accountsTickMsg{id: m.tickID - 1}); cmd != nil {
		t.Error("a tick of an earlier showing goes on")
	}
}

func TestAccountsCursorMarkMoves(t *testing.T) {
	t.Parallel()
	m := shownAccounts(t)
	m.update(keyMsg("j"))
	if row := cursorRow(t, m); !strings.Contains(row, "quinn") {
		t.Errorf("after j the cursor is on %q", row)
	}
	m.update(keyMsg("g"))
	if row := cursorRow(t, m); !strings.Contains(row, "alice") {
		t.Errorf("after g the cursor is on %q", row)
	}
	// d is the logout key, not the table's half page down.
	m.update(keyMsg("d"))
	if m.confirming == nil || m.confirming.Session.Username != "alice" {
		t.Fatalf("d asks about %+v", m.confirming)
	}
}

func TestAccountsEnter(t *testing.T) {
	t.Parallel()
	// On a valid account: made active, then its dashboard.
	m := shownAccounts(t)
	m.update(keyMsg("j")) // quinn
	cmd, to := m.update(keyMsg("enter"))
	if cmd == nil || to != nil || m.busy == "" {
		t.Fatalf("enter: busy %q, to %#v", m.busy, to)
	}
	if keys, _ := m.helpKeys(); keys == nil {
		t.Fatal("no help while busy")
	}
	m.update(keyMsg("d")) // ignored while busy
	if m.confirming != nil {
		t.Error("a key was handled while busy")
	}
	quinn := threeAccounts.accounts[2].Session
	_, to = m.update(accountOpenedMsg{session: quinn})
	if d, ok := to.(toDashboard); !ok || d.session != quinn || !strings.Contains(d.event, "opened quinn") {
		t.Errorf("after the switch: to %#v", to)
	}

	// A switch that fails stays here, saying so.
	m = shownAccounts(t)
	m.update(keyMsg("enter"))
	if _, to := m.update(accountOpenedMsg{session: testSession(), err: errNoClient}); to != nil || !strings.Contains(m.err, "cannot make john@API the active account") {
		t.Errorf("failed switch: to %#v, err %q", to, m.err)
	}

	// On an expired one: the login form, filled in.
	m = shownAccounts(t)
	m.update(keyMsg("g"))
	cmd, to = m.update(keyMsg("enter"))
	want := toForm{kind: loginForm, server: testServer, username: "alice", note: "the session of alice has expired: log in again", isError: true}
	if cmd != nil || to != want {
		t.Errorf("enter on an expired account: to %#v", to)
	}
}

func TestAccountsLogoutAsksFirst(t *testing.T) {
	t.Parallel()
	m := shownAccounts(t)
	m.update(keyMsg("j"))
	m.update(keyMsg("d"))
	if v := m.view(80, 19); !strings.Contains(v, "? log out quinn at http://127.0.0.1:9090") {
		t.Fatalf("no question:\n%s", v)
	}
	// n says no; so does esc.
	for _, no := range []string{"n", "esc"} {
		m.update(keyMsg("d"))
		if cmd, to := m.update(keyMsg(no)); cmd != nil || to != nil || m.confirming != nil || m.busy != "" {
			t.Errorf("%s: still asking or logging out", no)
		}
	}
	// Other keys leave the question open.
	m.update(keyMsg("d"))
	m.update(keyMsg("x"))
	if m.confirming == nil {
		t.Fatal("x answered the question")
	}
	cmd, _ := m.update(keyMsg("y"))
	if cmd == nil || m.busy != "logging out quinn…" {
		t.Fatalf("y: busy %q", m.busy)
	}
	_, to := m.update(accountLoggedOutMsg{session: threeAccounts.accounts[2].Session})
	if to != (toHome{note: "quinn: logged out", event: "quinn at http://127.0.0.1:9090: logged out"}) {
		t.Errorf("after the logout: to %#v", to)
	}
}

func TestAccountsFilter(t *testing.T) {
	t.Parallel()
	m := shownAccounts(t)
	m.update(keyMsg("/"))
	// Keys are text while the filter is typed: n, d and q included.
	cmd, to := m.update(keyMsg("9090"))
	if to != nil || isQuit(cmd) || len(m.shown) != 1 || m.shown[0].Session.Username != "quinn" {
		t.Fatalf("filter 9090: %d shown", len(m.shown))
	}
	m.update(keyMsg("enter")) // keep it
	if m.filtering || !strings.Contains(m.view(80, 19), "Filter: 9090") {
		t.Errorf("enter did not keep the filter:\n%s", m.view(80, 19))
	}
	m.update(keyMsg("/"))
	m.update(keyMsg("backspace"))
	m.update(keyMsg("backspace"))
	m.update(keyMsg("backspace"))
	m.update(keyMsg("backspace"))
	m.update(keyMsg("JOHN")) // any case
	if len(m.shown) != 1 || m.shown[0].Session.Username != "john@API" {
		t.Fatalf("filter JOHN: %+v", m.shown)
	}
	m.update(keyMsg("esc")) // clears it
	if m.filtering || len(m.shown) != 3 || strings.Contains(m.view(80, 19), "Filter:") {
		t.Errorf("esc: %d shown, filtering %v", len(m.shown), m.filtering)
	}
	m.update(keyMsg("/"))
	m.update(keyMsg("nobody"))
	if v := m.view(80, 19); !strings.Contains(v, "no account matches nobody") {
		t.Errorf("no match:\n%s", v)
	}
	m.update(keyMsg("enter"))
	if cmd, to := m.update(keyMsg("enter")); cmd != nil || to != nil {
		t.Error("enter with nothing shown did something")
	}
}

func TestAccountsKeys(t *testing.T) {
	t.Parallel()
	m := shownAccounts(t)
	if _, to := m.update(keyMsg("n")); to != (toForm{kind: loginForm}) {
		t.Errorf("n: to %#v", to)
	}
	if cmd, _ := m.update(keyMsg("q")); !isQuit(cmd) {
		t.Error("q does not quit")
	}
	m.update(keyMsg("?"))
	if _, full := m.helpKeys(); !full {
		t.Error("? does not open the full help")
	}
}

// TestEveryKeyIsInTheHelp checks each screen's full help lists every key
// the screen handles: the bindings it matches are the ones it lists.
func TestEveryKeyIsInTheHelp(t *testing.T) {
	t.Parallel()
	listed := func(km interface{ FullHelp() [][]key.Binding }) map[string]bool {
		keys := map[string]bool{}
		for _, g := range km.FullHelp() {
			for _, b := range g {
				for _, k := range b.Keys() {
					keys[k] = true
				}
			}
		}
		return keys
	}
	for name, tt := range map[string]struct {
		km   interface{ FullHelp() [][]key.Binding }
		keys []string
	}{
		"menu":      {newMenuKeyMap(), []string{"up", "k", "down", "j", "enter", "?", "q", "ctrl+c"}},
		"form":      {newFormKeyMap(), []string{"tab", "down", "shift+tab", "up", "enter", "esc", "ctrl+c"}},
		"accounts":  {newAccountsKeyMap(), []string{"enter", "d", "n", "/", "up", "k", "down", "j", "pgup", "pgdown", "home", "g", "end", "G", "y", "esc", "?", "q", "ctrl+c"}},
		"dashboard": {newDashboardKeyMap(), []string{"r", "l", "a", "esc", "up", "k", "down", "j", "pgup", "pgdown", "?", "q", "ctrl+c"}},
	} {
		got := listed(tt.km)
		for _, k := range tt.keys {
			if !got[k] {
				t.Errorf("%s: key %q not in the full help", name, k)
			}
		}
	}
}
