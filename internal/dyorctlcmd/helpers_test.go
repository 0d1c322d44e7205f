package dyorctlcmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dyor-exchange/dyorctl/client"
	"github.com/dyor-exchange/dyorctl/credstore"
	"github.com/dyor-exchange/dyorctl/internal/testutil"
	"github.com/dyor-exchange/dyorctl/mock"
	"github.com/dyor-exchange/dyorctl/tui"
)

// newTestIO returns IOStreams over buffers: no terminal, stdin as given.
func newTestIO(stdin string) (ios *IOStreams, stdout, stderr *bytes.Buffer) {
	stdout, stderr = &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: strings.NewReader(stdin), Out: stdout, ErrOut: stderr}, stdout, stderr
}

// result is what a run of dyorctl left behind.
type result struct {
	code           int
	stdout, stderr string
}

// cli runs dyorctl in process against one mock server and one config dir.
type cli struct {
	t   *testing.T
	srv *mock.Server
	dir string // the config dir (not created until the first write)
	env map[string]string

	// now is the CLI's clock; nil means time.Now.
	now func() time.Time
	// setup, when set, adjusts the factory of each run (terminals, TUI).
	setup func(*Factory)
}

// suiteFindings are the findings that fail every test of the package:
// dyorctl never reuses a refresh token, presents an expired token or leaks
// sessions. An early refresh is checked where dyorctl decides to refresh
// (TestAutomaticRefreshIsNeverEarly, the fault tests): "dyorctl refresh"
// right after login is the user's wish.
var suiteFindings = []mock.FindingKind{mock.FindingReuse, mock.FindingExpiredToken, mock.FindingSessionLeak}

// newCLI starts a mock (bcrypt cost 4, plus opts) and an empty config dir.
// The mock fails the test at cleanup on any of suiteFindings; a test
// narrows the check with allowing, or widens it with its own
// mock.FailOnFindings (a later option counts).
func newCLI(t *testing.T, opts ...mock.Option) *cli {
	t.Helper()
	srv := mock.Start(t, append([]mock.Option{mock.WithBcryptCost(4), mock.FailOnFindings(suiteFindings...)}, opts...)...)
	return &cli{
		t:   t,
		srv: srv,
		dir: filepath.Join(t.TempDir(), "dyorctl"),
		env: map[string]string{},
	}
}

// run runs dyorctl with --server and --config-dir set, stdin as given.
func (c *cli) run(stdin string, args ...string) result {
	c.t.Helper()
	return c.runRaw(context.Background(), stdin, append([]string{"--server", c.srv.URL, "--config-dir", c.dir}, args...)...)
}

// runRaw runs dyorctl with exactly args.
func (c *cli) runRaw(ctx context.Context, stdin string, args ...string) result {
	c.t.Helper()
	ios, stdout, stderr := newTestIO(stdin)
	f := NewFactory(ios, func(k string) string { return c.env[k] })
	f.UserConfigDir = func() (string, error) { return "", errors.New("tests never use the user's config dir") }
	f.RunTUI = func(context.Context, tui.Options) error {
		c.t.Error("the TUI was started in a test that did not expect it")
		return nil
	}
	if c.now != nil {
		f.Now = c.now
	}
	if c.setup != nil {
		c.setup(f)
	}
	code := run(ctx, f, args)
	return result{code, stdout.String(), stderr.String()}
}

// login logs john@API in through the CLI.
func (c *cli) login(username, password string) {
	c.t.Helper()
	r := c.run(password+"\n", "login", "-u", username, "--password-stdin")
	if r.code != 0 {
		c.t.Fatalf("login %s: exit %d, stderr %q", username, r.code, r.stderr)
	}
}

func (c *cli) store() *credstore.Store {
	c.t.Helper()
	st, err := credstore.Open(c.dir)
	if err != nil {
		c.t.Fatal(err)
	}
	return st
}

// accounts returns the stored accounts.
func (c *cli) accounts() []credstore.Account {
	c.t.Helper()
	list, err := c.store().Accounts()
	if err != nil {
		c.t.Fatal(err)
	}
	return list
}

// stored returns the stored account of the mock server with username.
func (c *cli) stored(username string) (credstore.Account, bool) {
	for _, a := range c.accounts() {
		if a.Server == c.srv.URL && a.Username == username {
			return a, true
		}
	}
	return credstore.Account{}, false
}

// saveMinted stores a session minted on the mock as username's, active.
func (c *cli) saveMinted(username string, accessTTL, refreshTTL time.Duration) (client.Tokens, mock.Minted) {
	c.t.Helper()
	m, err := c.srv.MintSession(username, accessTTL, refreshTTL)
	if err != nil {
		c.t.Fatal(err)
	}
	tok, err := client.ParseTokens(m.Access, m.Refresh)
	if err != nil {
		c.t.Fatal(err)
	}
	tok.Username = username
	if err := c.store().ForServer(c.srv.URL).Save(context.Background(), tok); err != nil {
		c.t.Fatal(err)
	}
	return tok, m
}

// countRequests counts the journal's requests to route with status.
func countRequests(srv *mock.Server, route string, status int) int {
	n := 0
	for _, r := range srv.Requests() {
		if strings.HasSuffix(r.Path, "/"+route) && r.Status == status {
			n++
		}
	}
	return n
}

// hasCode reports whether any request of the journal answered code.
func hasCode(srv *mock.Server, code int) bool {
	for _, r := range srv.Requests() {
		if r.Code == code {
			return true
		}
	}
	return false
}

// wantExit checks the exit code and that stderr is one clear sentence: one
// line, no Go stack, no raw JSON body.
func wantExit(t *testing.T, r result, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit %d, want %d\nstdout: %q\nstderr: %q", r.code, code, r.stdout, r.stderr)
	}
	if code == 0 {
		return
	}
	checkSentence(t, r.stderr)
}

func checkSentence(t *testing.T, stderr string) {
	t.Helper()
	lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
	if len(lines) != 1 || lines[0] == "" {
		t.Errorf("stderr is not one line: %q", stderr)
	}
	for _, bad := range []string{"goroutine ", "panic:", ".go:", `{"ok"`, `"error":`} {
		if strings.Contains(stderr, bad) {
			t.Errorf("stderr contains %q: %q", bad, stderr)
		}
	}
}

// decodeJSON checks that out is exactly one JSON object and decodes it.
func decodeJSON(t *testing.T, out string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(out))
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		t.Fatalf("stdout is not a JSON object: %v\n%q", err, out)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		t.Fatalf("stdout holds more than one JSON value: %q", out)
	}
	return obj
}

// keys returns the sorted keys of a JSON object, joined by commas.
func keys(obj map[string]any) string {
	var list []string
	for k := range obj {
		list = append(list, k)
	}
	slices.Sort(list)
	return strings.Join(list, ",")
}

// waitUntil polls cond until it holds or the deadline passes.
func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// binaries is the dyorctl binary, built once for the tests that run it as
// a subprocess.
var binaries = testutil.NewBinaries("./cmd/dyorctl")

func TestMain(m *testing.M) {
	code := m.Run()
	binaries.Remove()
	os.Exit(code)
}
