package tui

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/teatest"

	"github.com/dyor-exchange/dyorctl/client"
	"github.com/dyor-exchange/dyorctl/credstore"
	"github.com/dyor-exchange/dyorctl/internal/testutil"
	"github.com/dyor-exchange/dyorctl/mock"
)

// fileApp is the app on the credentials file in dir, as "dyorctl tui
// --server server" runs it, on the clock now.
func fileApp(t *testing.T, dir, server string, now func() time.Time) (*teatest.TestModel, *testutil.Frames) {
	t.Helper()
	st, err := credstore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	rec := testutil.NewFrames(New(Options{
		Accounts: st,
		NewClient: func(server string, ts client.TokenStore) (*client.Client, error) {
			return client.New(server, client.WithTokenStore(ts), client.WithClock(now))
		},
		Server:   server,
		renderer: asciiRenderer(),
		now:      now,
		timeout:  waitTimeout,
	}))
	tm := teatest.NewTestModel(t, rec, teatest.WithInitialTermSize(80, 24))
	t.Cleanup(func() { _ = tm.Quit() })
	return tm, rec
}

// waitScreen waits until the screen shows text; runs of spaces count as one,
// as a table's columns are as wide as the servers' URLs make them.
func waitScreen(t *testing.T, tm *teatest.TestModel, rec *testutil.Frames, text string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func([]byte) bool { return strings.Contains(squeeze(rec.Last()), squeeze(text)) },
		teatest.WithDuration(waitTimeout), teatest.WithCheckInterval(10*time.Millisecond))
}

// squeeze is s with each run of spaces made one.
func squeeze(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.Join(lines, "\n")
}

// loginStored logs username in on srv as "dyorctl login" does, into the
// credentials file in dir.
func loginStored(t *testing.T, dir string, srv *mock.Server, username, password string) {
	t.Helper()
	st, err := credstore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(srv.URL, client.WithTokenStore(st.ForServer(srv.URL)), client.WithClock(srv.Now))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Login(context.Background(), username, password); err != nil {
		t.Fatal(err)
	}
}

// TestAppSharesTheFileStore runs the app on the CLI's file store: a login in
// the app is what "dyorctl status" reads, and a login made elsewhere (as
// "dyorctl login" does) opens the app on the dashboard.
func TestAppSharesTheFileStore(t *testing.T) {
	t.Parallel()
	srv := mock.Start(t, mock.FailOnFindings(suiteFindings...), mock.WithBcryptCost(4), mock.WithClock(func() time.Time { return fixedNow }))
	dir := t.TempDir()

	// Log in in the app.
	tm, rec := fileApp(t, dir, srv.URL, srv.Now)
	waitScreen(t, tm, rec, "> Log in")
	tm.Send(keyMsg("enter"))
	waitScreen(t, tm, rec, "Server "+srv.URL)
	for _, k := range []string{"john@API", "tab", "honeyBunnies", "enter"} {
		tm.Send(keyMsg(k))
	}
	waitScreen(t, tm, rec, "access expires in 15m 0s")
	tm.Send(keyMsg("q"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(waitTimeout))

	st, err := credstore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	accounts, err := st.Accounts()
	if err != nil || len(accounts) != 1 || accounts[0].Username != "john@API" || !accounts[0].Active {
		t.Fatalf("the file store after a login in the app: %+v, %v", accounts, err)
	}

	// Log in elsewhere as another account: two accounts, the accounts screen.
	if _, err := srv.AddAccount("quinn", "password1"); err != nil {
		t.Fatal(err)
	}
	loginStored(t, dir, srv, "quinn", "password1")
	tm, rec = fileApp(t, dir, srv.URL, srv.Now)
	waitScreen(t, tm, rec, "dyorctl · accounts")
	waitScreen(t, tm, rec, "> * "+srv.URL+" quinn")
	tm.Send(keyMsg("enter"))
	waitScreen(t, tm, rec, "Username  quinn")
	tm.Send(keyMsg("l"))
	waitScreen(t, tm, rec, "✓ logged out")
	waitScreen(t, tm, rec, "dyorctl · accounts") // john@API is left
	tm.Send(keyMsg("q"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(waitTimeout))
	if _, err := st.Active(srv.URL); err == nil {
		t.Error("an account is still active after logging out in the app")
	}
}

// TestAppAccountsOfTwoServers: three stored accounts on two servers. Enter
// on one makes it its server's active account (what "dyorctl status"
// reads); d on another logs it out on its server and removes it.
func TestAppAccountsOfTwoServers(t *testing.T) {
	t.Parallel()
	clock := func() time.Time { return fixedNow }
	a := mock.Start(t, mock.FailOnFindings(suiteFindings...), mock.WithBcryptCost(4), mock.WithClock(clock))
	b := mock.Start(t, mock.FailOnFindings(suiteFindings...), mock.WithBcryptCost(4), mock.WithClock(clock))
	if _, err := a.AddAccount("quinn", "password1"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	loginStored(t, dir, a, "john@API", "honeyBunnies")
	loginStored(t, dir, a, "quinn", "password1") // now A's active one
	loginStored(t, dir, b, "john@API", "honeyBunnies")
	port := func(s *mock.Server) string {
		u, err := url.Parse(s.URL)
		if err != nil {
			t.Fatal(err)
		}
		return ":" + u.Port()
	}

	st, err := credstore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := st.Accounts()
	if err != nil {
		t.Fatal(err)
	}

	tm, rec := fileApp(t, dir, a.URL, a.Now)
	waitScreen(t, tm, rec, "dyorctl · accounts")
	for _, row := range []string{
		a.URL + " john@API 15m 0s 7d 0h 0m valid",
		"* " + a.URL + " quinn 15m 0s 7d 0h 0m valid",
		"* " + b.URL + " john@API 15m 0s 7d 0h 0m valid",
	} {
		if !strings.Contains(squeeze(rec.Last()), row) {
			t.Errorf("no row %q in\n%s", row, rec.Last())
		}
	}

	// Enter on john@API at A: the first of A's accounts.
	for _, k := range []string{"/", port(a), "enter", "g", "enter"} {
		tm.Send(keyMsg(k))
	}
	waitScreen(t, tm, rec, "opened john@API, now active on its server")
	if !strings.Contains(squeeze(rec.Last()), "Server "+a.URL) {
		t.Fatalf("not john@API at A:\n%s", rec.Last())
	}
	if active, err := st.Active(a.URL); err != nil || active.Username != "john@API" {
		t.Fatalf("A's active account: %q, %v", active.Username, err)
	}

	// d on john@API at B, after a question.
	for _, k := range []string{"esc", "/", port(b), "enter", "d"} {
		tm.Send(keyMsg(k))
	}
	waitScreen(t, tm, rec, "? log out john@API at "+b.URL)
	if n := len(b.Sessions()); n != 1 {
		t.Fatalf("B has %d sessions before the answer", n)
	}
	tm.Send(keyMsg("y"))
	waitScreen(t, tm, rec, "✓ john@API: logged out")
	if n := len(b.Sessions()); n != 0 {
		t.Errorf("B still has %d sessions", n)
	}
	accounts, err := st.Accounts()
	if err != nil || len(accounts) != 2 {
		t.Fatalf("stored after d: %+v, %v", accounts, err)
	}
	for _, acc := range accounts {
		if acc.Server == b.URL {
			t.Errorf("B's account is still stored")
		}
	}
	if len(a.Sessions()) != 2 {
		t.Errorf("A's sessions changed: %d", len(a.Sessions()))
	}
	tm.Send(keyMsg("q"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(waitTimeout))

	// No token, nor any part of one, was ever on screen.
	frames := rec.All()
	for _, acc := range stored {
		for _, tok := range []string{acc.Tokens.Access, acc.Tokens.Refresh} {
			for i := 0; i+16 <= len(tok); i += 4 {
				for _, f := range frames {
					if strings.Contains(f.View, tok[i:i+16]) {
						t.Fatalf("a piece of a token of %s is on screen:\n%s", acc.Username, f.View)
					}
				}
			}
		}
	}
}

// TestMemoryAccounts is the demo's store: the client's own server in its
// store, any other in memory, one account each.
func TestMemoryAccounts(t *testing.T) {
	t.Parallel()
	srv := mock.Start(t, mock.FailOnFindings(suiteFindings...), mock.WithBcryptCost(4), mock.WithClock(func() time.Time { return fixedNow }))
	c, err := client.New(srv.URL, client.WithClock(srv.Now))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	m := newMemoryAccounts(c)
	if list, err := m.Accounts(); err != nil || len(list) != 0 {
		t.Fatalf("empty: %+v, %v", list, err)
	}
	if _, err := c.Login(ctx, "john@API", "honeyBunnies"); err != nil {
		t.Fatal(err)
	}
	other, err := client.New("http://127.0.0.1:1", client.WithTokenStore(m.ForServer("http://127.0.0.1:1")))
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := c.Tokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tokens.Username = "quinn"
	if err := other.Store().Save(ctx, tokens); err != nil {
		t.Fatal(err)
	}
	list, err := m.Accounts()
	if err != nil || len(list) != 2 || list[0].Server != "http://127.0.0.1:1" || list[1].Username != "john@API" || !list[1].Active {
		t.Fatalf("two servers: %+v, %v", list, err)
	}
	if err := m.Switch(ctx, srv.URL, "john@API"); err != nil {
		t.Errorf("switch to the one account: %v", err)
	}
	if err := m.Switch(ctx, srv.URL, "nobody"); !isNotLoggedIn(err) {
		t.Errorf("switch to no account: %v", err)
	}

	// The logout of the accounts screen: revoked on the server, then gone.
	lc, err := client.New(srv.URL, client.WithTokenStore(accountTokens{store: m, server: srv.URL, username: "john@API"}), client.WithClock(srv.Now))
	if err != nil {
		t.Fatal(err)
	}
	if err := lc.Logout(ctx); err != nil {
		t.Fatalf("logout: %v", err)
	}
	if n := len(srv.Sessions()); n != 0 {
		t.Errorf("%d sessions left on the server", n)
	}
	if list, _ := m.Accounts(); len(list) != 1 || list[0].Username != "quinn" {
		t.Errorf("after the logout: %+v", list)
	}
	if err := lc.Logout(ctx); !isNotLoggedIn(err) {
		t.Errorf("a second logout: %v", err)
	}
	if err := (accountTokens{store: m, server: srv.URL, username: "john@API"}).Save(ctx, tokens); err == nil {
		t.Error("accountTokens saved tokens")
	}
}
