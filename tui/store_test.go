package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/teatest"

	"github.com/dyor-exchange/dyorctl/client"
	"github.com/dyor-exchange/dyorctl/credstore"
	"github.com/dyor-exchange/dyorctl/mock"
)

// TestAppSharesTheFileStore runs the app on the CLI's file store: a login in
// the app is what "dyorctl status" reads, and a login made elsewhere (as
// "dyorctl login" does) opens the app on the dashboard.
func TestAppSharesTheFileStore(t *testing.T) {
	t.Parallel()
	srv := mock.Start(t, mock.WithBcryptCost(4), mock.WithClock(func() time.Time { return fixedNow }))
	dir := t.TempDir()
	newClient := func() *client.Client {
		t.Helper()
		st, err := credstore.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		c, err := client.New(srv.URL, client.WithTokenStore(st.ForServer(srv.URL)), client.WithClock(srv.Now))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	run := func(c *client.Client) (*teatest.TestModel, *recorder) {
		rec := &recorder{Model: New(Options{Client: c, renderer: asciiRenderer(), now: srv.Now, timeout: waitTimeout})}
		tm := teatest.NewTestModel(t, rec, teatest.WithInitialTermSize(80, 24))
		t.Cleanup(func() { _ = tm.Quit() })
		return tm, rec
	}
	waitFor := func(tm *teatest.TestModel, rec *recorder, text string) {
		t.Helper()
		teatest.WaitFor(t, tm.Output(), func([]byte) bool { return strings.Contains(rec.lastFrame(), text) },
			teatest.WithDuration(waitTimeout), teatest.WithCheckInterval(10*time.Millisecond))
	}

	// Log in in the app.
	tm, rec := run(newClient())
	waitFor(tm, rec, "> Log in")
	tm.Send(keyMsg("enter"))
	waitFor(tm, rec, "Username")
	for _, k := range []string{"john@API", "tab", "honeyBunnies", "enter"} {
		tm.Send(keyMsg(k))
	}
	waitFor(tm, rec, "access expires in 15m 0s")
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

	// Log in elsewhere as another account; the app opens on its dashboard.
	if _, err := srv.AddAccount("quinn", "password1"); err != nil {
		t.Fatal(err)
	}
	if _, err := newClient().Login(context.Background(), "quinn", "password1"); err != nil {
		t.Fatal(err)
	}
	tm, rec = run(newClient())
	waitFor(tm, rec, "Username  quinn")
	tm.Send(keyMsg("l"))
	waitFor(tm, rec, "logged out")
	tm.Send(keyMsg("q"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(waitTimeout))
	if _, err := st.Active(srv.URL); err == nil {
		t.Error("an account is still active after logging out in the app")
	}
}
