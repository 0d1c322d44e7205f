//go:build linux

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dyor-exchange/dyorctl/client"
	"github.com/dyor-exchange/dyorctl/credstore"
	"github.com/dyor-exchange/dyorctl/internal/testutil"
)

// TestNoSecretLeaks drives a whole flow through the real binaries — every
// command, every failure path, -v everywhere, dyormock logging at debug —
// and the TUI through teatest, then looks for every password and token of
// the flow in everything that was printed, logged, journalled, saved or
// drawn. See the package documentation and scan_test.go.
//
// It is Linux-only because the password prompt needs a pseudo-terminal
// (pty_linux_test.go).
func TestNoSecretLeaks(t *testing.T) {
	needBinaries(t)
	l := newLedger()
	t.Run("cli", func(t *testing.T) { cliFlow(t, l) })
	t.Run("tui", func(t *testing.T) { tuiFlow(t, l) })

	// A canary proves, with the flow's own secrets, that the scan sees what
	// it must: a password and a piece of a token it harvested, put in a
	// capture of their own, must be found, and are then left out of the
	// report.
	canary := canaryCapture(t, l)
	findings, pieceCount, scanned := l.scan()
	caught := 0
	for _, f := range findings {
		if f.capture.source == canary {
			caught++
			continue
		}
		t.Error(f)
	}
	if caught != 2 {
		t.Errorf("the canary's password and token piece were found %d times, want 2: the scan is blind", caught)
	}
	t.Logf("looked for %d secrets (%d distinct %d-character pieces) in %d captures (%d bytes): %d leaks",
		len(l.secrets), pieceCount, window, len(l.captures), scanned, len(findings)-caught)
}

// canaryCapture records a capture holding a whole password of the flow
// and a 16-character piece of the signature of its last token, and returns
// its source.
func canaryCapture(t *testing.T, l *ledger) string {
	t.Helper()
	l.mu.Lock()
	var pw, tok string
	for _, s := range l.secrets {
		switch {
		case s.token:
			tok = s.value
		case strings.HasPrefix(s.label, "password") && pw == "" && len(s.value) >= window:
			pw = s.value
		}
	}
	l.mu.Unlock()
	if pw == "" || tok == "" {
		t.Fatal("the flow recorded no password or no token")
	}
	sig := tok[strings.LastIndex(tok, ".")+1:]
	const source = "canary (a planted leak)"
	l.record(capture{source: source, channel: "self-check", text: "pw=" + pw + " sig…" + sig[5:5+window] + "…"})
	return source
}

// dyormockProc is the dyormock binary running.
type dyormockProc struct {
	cmd            *exec.Cmd
	url            string
	state          string
	stdout, stderr testutil.SyncBuffer
	exited         chan struct{}
	err            error
}

func startDyormock(t *testing.T, args ...string) *dyormockProc {
	t.Helper()
	dir := t.TempDir()
	urlFile := filepath.Join(dir, "url")
	m := &dyormockProc{state: filepath.Join(dir, "state.json"), exited: make(chan struct{})}
	args = append([]string{"--addr", "127.0.0.1:0", "--url-file", urlFile, "--bcrypt-cost", "4",
		"--log-level", "debug", "--log-format", "json", "--state", m.state}, args...)
	m.cmd = exec.Command(dyormockBin, args...)
	m.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	m.cmd.Stdout, m.cmd.Stderr = &m.stdout, &m.stderr
	if err := m.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { m.err = m.cmd.Wait(); close(m.exited) }()
	t.Cleanup(func() {
		select {
		case <-m.exited:
		default:
			_ = m.cmd.Process.Kill()
			<-m.exited
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		if b, err := os.ReadFile(urlFile); err == nil {
			m.url = strings.TrimSpace(string(b))
			break
		}
		select {
		case <-m.exited:
			t.Fatalf("dyormock exited before it was ready: %v\nstderr: %s", m.err, m.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("dyormock wrote no --url-file; stderr: %s", m.stderr.String())
		}
		time.Sleep(5 * time.Millisecond) // polling, with a deadline
	}
	return m
}

// stop sends SIGTERM and waits for a graceful exit.
func (m *dyormockProc) stop(t *testing.T) {
	t.Helper()
	if err := m.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-m.exited:
	case <-time.After(30 * time.Second):
		t.Fatal("dyormock did not shut down within 30 s of SIGTERM")
	}
	if m.err != nil {
		t.Errorf("dyormock after SIGTERM: %v; stderr %s", m.err, m.stderr.String())
	}
}

var controlClient = &http.Client{Timeout: 10 * time.Second}

// control calls the mock's control plane and returns the result of the
// envelope (it fails the test on an error envelope) and the raw body.
func (m *dyormockProc) control(t *testing.T, method, path, body string) (json.RawMessage, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, m.url+"/_mock"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := controlClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		OK     bool            `json:"ok"`
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(raw, &env); err != nil || !env.OK {
		t.Fatalf("%s /_mock%s: %d %s", method, path, resp.StatusCode, raw)
	}
	return env.Result, string(raw)
}

// flow runs dyorctl against one dyormock and one config dir, records every
// output in the ledger and harvests every token.
type flow struct {
	t      *testing.T
	l      *ledger
	mock   *dyormockProc
	dir    string // the config dir
	home   string
	n      int             // commands run
	sids   map[string]bool // sessions of the tokens seen
	minted map[string]bool // sessions minted through the control plane
}

// run is one dyorctl command line and what is expected of it.
type run struct {
	what   string   // the step, for the leak report
	args   []string // after the global flags
	stdin  string   // piped to stdin; "" means /dev/null
	env    []string // extra environment, e.g. DYOR_PASSWORD=…
	server string   // --server; "" means the mock
	exit   int
	stderr string // a piece of stderr that shows the path taken ("" = no check)
	stdout string // a piece of stdout that shows the path taken ("" = no check)
	token  bool   // dyorctl token: stdout is the token, and may be
	pty    []ptyAnswer
}

func (f *flow) env(extra []string) []string {
	return append([]string{
		"HOME=" + f.home,
		"XDG_CONFIG_HOME=" + filepath.Join(f.home, ".config"),
		"PATH=" + os.Getenv("PATH"),
		"TERM=xterm",
	}, extra...)
}

// do runs one command and records its outputs, then the config dir's
// files.
func (f *flow) do(r run) {
	f.t.Helper()
	f.n++
	server := r.server
	if server == "" {
		server = f.mock.url
	}
	args := append([]string{"--server", server, "--config-dir", f.dir, "-v", "--timeout", "10s"}, r.args...)
	shown := strings.Join(append([]string{"dyorctl", "-v"}, r.args...), " ")
	if r.stdin != "" {
		shown = "… | " + shown
	}
	for _, e := range r.env {
		k, _, _ := strings.Cut(e, "=")
		shown = k + "=… " + shown
	}
	if r.server != "" {
		shown += " (--server " + r.server + ")"
	}
	shown = redactAll(f.l, shown) // a password given where it does not belong
	source := fmt.Sprintf("dyorctl #%d [%s] `%s`", f.n, r.what, shown)

	var code int
	var stdout, stderr string
	if r.pty != nil {
		cmd := exec.Command(dyorctlBin, args...)
		cmd.Env = f.env(r.env)
		var screen string
		var err error
		code, screen, err = runOnPTY(cmd, r.pty)
		if err != nil {
			f.t.Errorf("%s: %s", source, redactAll(f.l, err.Error()))
		}
		f.l.record(capture{source: source, channel: "terminal (stdout, stderr and echo)", text: screen})
		stderr = screen
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, dyorctlBin, args...)
		cmd.Env = f.env(r.env)
		if r.stdin != "" {
			cmd.Stdin = strings.NewReader(r.stdin)
		}
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		var exitErr *exec.ExitError
		switch {
		case ctx.Err() != nil:
			f.t.Errorf("%s hung (killed after 30 s)", source)
		case errors.As(err, &exitErr):
			code = exitErr.ExitCode()
		case err != nil:
			f.t.Fatalf("%s: %v", source, err)
		}
		stdout, stderr = out.String(), errOut.String()
		if r.token {
			// The one channel where a token belongs: it is not scanned, but
			// its token is a secret for every other channel.
			if code == 0 {
				tok := strings.TrimSuffix(stdout, "\n")
				if strings.Count(tok, ".") != 2 || strings.ContainsAny(tok, " \n") {
					f.t.Errorf("%s printed %q…, not one token", source, prefix4(stdout))
				}
				f.l.token("access token printed by "+source, tok)
				f.sids[tokenSID(tok)] = true
			} else if stdout != "" {
				f.l.record(capture{source: source, channel: "stdout (token failed)", text: stdout})
			}
		} else {
			f.l.record(capture{source: source, channel: "stdout", text: stdout})
		}
		f.l.record(capture{source: source, channel: "stderr", text: stderr})
	}
	if code != r.exit {
		f.t.Errorf("%s: exit %d, want %d; stderr %q", source, code, r.exit, redactAll(f.l, stderr))
	}
	if r.stdout != "" && !strings.Contains(stdout, r.stdout) {
		f.t.Errorf("%s: stdout lacks %q: %q", source, r.stdout, redactAll(f.l, stdout))
	}
	if r.stderr != "" && !strings.Contains(stderr, r.stderr) {
		f.t.Errorf("%s: stderr lacks %q: %q", source, r.stderr, redactAll(f.l, stderr))
	}
	f.harvest(source)
}

// redactAll replaces every whole secret in s, so that a failure message of
// the test does not leak what the test guards (the leak report proper
// comes from the scan).
func redactAll(l *ledger, s string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, sec := range l.secrets {
		s = strings.ReplaceAll(s, sec.value, "["+prefix4(sec.value)+"…]")
	}
	return s
}

// harvest records every file of the config dir (where tokens belong, but
// passwords never do) and the tokens of the credentials file.
func (f *flow) harvest(source string) {
	f.t.Helper()
	entries, err := os.ReadDir(f.dir)
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	if err != nil {
		f.t.Fatal(err)
	}
	if info, err := os.Stat(f.dir); err == nil && info.Mode().Perm() != 0o700 {
		f.t.Errorf("after %s: the config dir has mode %v, want 0700", source, info.Mode().Perm())
	}
	for _, e := range entries {
		path := filepath.Join(f.dir, e.Name())
		if !e.Type().IsRegular() {
			continue // a named pipe or a link planted on purpose: reading it would hang
		}
		if info, err := os.Stat(path); err == nil && info.Mode().Perm() != 0o600 {
			f.t.Errorf("after %s: %s has mode %v, want 0600", source, e.Name(), info.Mode().Perm())
		}
		data, err := os.ReadFile(path)
		if err != nil {
			continue // a temporary file renamed meanwhile
		}
		f.l.record(capture{source: "after " + source, channel: "config dir file " + e.Name(), text: string(data), tokenStore: true})
		if e.Name() == credstore.FileName {
			f.harvestFile(data, "stored after "+source)
		}
	}
}

func (f *flow) harvestFile(data []byte, label string) {
	var file struct {
		Servers map[string]struct {
			Accounts map[string]struct{ Access, Refresh string }
		}
	}
	if json.Unmarshal(data, &file) != nil {
		return // corrupt on purpose: its tokens were harvested before
	}
	for _, s := range file.Servers {
		for name, a := range s.Accounts {
			f.l.token(fmt.Sprintf("access token of %s, %s", name, label), a.Access)
			f.l.token(fmt.Sprintf("refresh token of %s, %s", name, label), a.Refresh)
			f.sids[tokenSID(a.Access)] = true
			f.sids[tokenSID(a.Refresh)] = true
		}
	}
}

// minted is a session minted through the control plane.
type minted struct {
	SessionID string `json:"session_id"`
	Token     struct {
		Access  string `json:"access"`
		Refresh string `json:"refresh"`
	} `json:"token"`
}

func (f *flow) mint(username, accessTTL, refreshTTL string) minted {
	f.t.Helper()
	body := fmt.Sprintf(`{"username":%q`, username)
	if accessTTL != "" {
		body += fmt.Sprintf(`,"access_ttl":%q`, accessTTL)
	}
	if refreshTTL != "" {
		body += fmt.Sprintf(`,"refresh_ttl":%q`, refreshTTL)
	}
	res, _ := f.mock.control(f.t, http.MethodPost, "/sessions", body+"}")
	var m minted
	if err := json.Unmarshal(res, &m); err != nil {
		f.t.Fatal(err)
	}
	f.l.token("access token minted via POST /_mock/sessions for "+username, m.Token.Access)
	f.l.token("refresh token minted via POST /_mock/sessions for "+username, m.Token.Refresh)
	f.minted[m.SessionID] = true
	return m
}

// store saves a minted session as username's, active, for server.
func (f *flow) store(server, username string, m minted) client.Tokens {
	f.t.Helper()
	tok, err := client.ParseTokens(m.Token.Access, m.Token.Refresh)
	if err != nil {
		f.t.Fatal(err)
	}
	tok.Username = username
	st, err := credstore.Open(f.dir)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := st.ForServer(server).Save(context.Background(), tok); err != nil {
		f.t.Fatal(err)
	}
	return tok
}

// activeSID is the session id of the mock server's active account.
func (f *flow) activeSID() string {
	f.t.Helper()
	st, err := credstore.Open(f.dir)
	if err != nil {
		f.t.Fatal(err)
	}
	a, err := st.Active(f.mock.url)
	if err != nil {
		f.t.Fatalf("no active account: %v", err)
	}
	return a.Tokens.SessionID
}

func (f *flow) revokeActive() {
	f.t.Helper()
	f.mock.control(f.t, http.MethodDelete, "/sessions/"+f.activeSID(), "")
}

func (f *flow) fault(route string, status int) {
	f.t.Helper()
	f.mock.control(f.t, http.MethodPost, "/faults", fmt.Sprintf(`{"route":%q,"status":%d,"times":1}`, route, status))
}

// closedPort returns the URL of a loopback port nothing listens on.
func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close()
	return url
}

// waitPast waits until every time in ts has passed on this machine's clock
// (the one dyorctl judges expiry by).
func waitPast(t *testing.T, ts ...time.Time) {
	t.Helper()
	last := slices.MaxFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	if d := time.Until(last); d > 10*time.Second {
		t.Fatalf("waiting %v is too long", d)
	}
	for !time.Now().After(last.Add(10 * time.Millisecond)) {
		time.Sleep(10 * time.Millisecond) // polling, with a bound checked above
	}
}

func cliFlow(t *testing.T, l *ledger) {
	pw := func(label string, n int) string {
		p := randomPassword(t, n)
		l.password(label, p)
		return p
	}
	var (
		pwAlice     = pw("of alice (seeded with dyormock --seed)", 20)
		pwLocky     = pw("of locky (seeded with dyormock --seed)", 20)
		pwBob       = pw("of bob (registered with --password-stdin)", 20)
		pwFrank     = pw("of frank (registered with --password-stdin -o json)", 24)
		pwDave      = pw("of dave (registered with DYOR_PASSWORD)", 20)
		pwCarol     = pw("of carol (registered at the prompt)", 20)
		pwErin1     = pw("of erin, first prompt", 20)
		pwErin2     = pw("of erin, confirmation that does not match", 20)
		pwTaken     = pw("given to register the taken name alice", 20)
		wrongBob    = pw("wrong for bob (--password-stdin)", 20)
		wrongDave   = pw("wrong for dave (DYOR_PASSWORD)", 20)
		wrongCarol  = pw("wrong for carol (prompt)", 20)
		wrongLocky1 = pw("first wrong for locky", 20)
		wrongLocky2 = pw("second wrong for locky (locks it)", 20)
		pwUnknown   = pw("given for the unknown account nobody", 20)
		tooLong     = pw("too long (80 bytes)", 80)
		tooLongTTY  = pw("too long at the prompt (90 bytes)", 90)
		tooShort    = pw("too short (7 bytes)", 7)
		pwFlag      = pw("given as a --password flag value (refused)", 20)
		pwInURL     = pw("in the user information of a --server URL (refused)", 20)
		pwAsOutput  = pw("given as the value of -o (refused)", 20)
		pwEchoed    = pw("of alice, sent to a server that echoes it", 20)
		huge        = pw("of 5000 bytes on stdin", 5000)
		mockSecret  = randomPassword(t, 32)
	)
	l.other("dyormock --secret (the HS256 signing key)", mockSecret)

	m := startDyormock(t, "--lockout-threshold", "2", "--secret", mockSecret,
		"--seed", "alice:"+pwAlice, "--seed", "locky:"+pwLocky)
	f := &flow{t: t, l: l, mock: m, dir: filepath.Join(t.TempDir(), "dyorctl"), home: t.TempDir(),
		sids: map[string]bool{}, minted: map[string]bool{}}
	stdin := func(p string) string { return p + "\n" }
	dead := closedPort(t)

	// Registration.
	f.do(run{what: "register", args: []string{"register", "-u", "bob", "--password-stdin"}, stdin: stdin(pwBob)})
	f.do(run{what: "register", args: []string{"register", "-u", "frank", "--password-stdin", "-o", "json"}, stdin: stdin(pwFrank)})
	f.do(run{what: "register", args: []string{"register", "-u", "dave", "-o", "json"}, env: []string{"DYOR_PASSWORD=" + pwDave}})
	f.do(run{what: "register at the prompt", args: []string{"register", "-u", "carol"},
		pty: []ptyAnswer{{"Password: ", pwCarol}, {"Confirm password: ", pwCarol}}})
	f.do(run{what: "register, passwords do not match", args: []string{"register", "-u", "erin"}, exit: 2, stderr: "do not match",
		pty: []ptyAnswer{{"Password: ", pwErin1}, {"Confirm password: ", pwErin2}}})
	for _, o := range []string{"text", "json"} {
		f.do(run{what: "register, username taken", args: []string{"register", "-u", "alice", "--password-stdin", "-o", o},
			stdin: stdin(pwTaken), exit: 5, stderr: "already taken"})
	}

	// A session: login, token, refresh, status, switch.
	f.do(run{what: "login", args: []string{"login", "-u", "alice", "--password-stdin"}, stdin: stdin(pwAlice)})
	f.do(run{what: "token", args: []string{"token"}, token: true})
	f.do(run{what: "refresh", args: []string{"refresh"}})
	f.do(run{what: "refresh", args: []string{"refresh", "-o", "json"}})
	f.do(run{what: "status", args: []string{"status"}})
	f.do(run{what: "status", args: []string{"status", "-o", "json"}})
	f.do(run{what: "login again (logs the earlier session out)", args: []string{"login", "-u", "alice", "--password-stdin", "-o", "json"}, stdin: stdin(pwAlice)})
	f.do(run{what: "login at the prompt", args: []string{"login", "-u", "carol"}, pty: []ptyAnswer{{"Password: ", pwCarol}}})
	f.do(run{what: "login", args: []string{"login", "-u", "bob", "-o", "json"}, env: []string{"DYOR_PASSWORD=" + pwBob}})
	f.do(run{what: "switch", args: []string{"switch", "-u", "carol", "-o", "json"}})
	f.do(run{what: "switch", args: []string{"switch", "-u", "alice"}})
	f.do(run{what: "status with three accounts", args: []string{"status"}})
	f.do(run{what: "status with three accounts", args: []string{"status", "-o", "json"}})
	f.do(run{what: "token", args: []string{"token"}, token: true})

	// Scripting: api and exec print no token of their own. exec's command
	// gets one in its environment only: it prints its own command line
	// and dyorctl's (its parent's), which are scanned with the rest.
	f.do(run{what: "api", args: []string{"api", "/healthz"}})
	f.do(run{what: "api -i", args: []string{"api", "-i", "/_mock/sessions"}})
	f.do(run{what: "api, no such route", args: []string{"api", "-X", "POST", "/api/v1/orders", "-d", `{"n":1}`, "-H", "X-Trace: e2e"}, exit: 1, stderr: "404 Not Found"})
	f.do(run{what: "api, an account route", args: []string{"api", "/api/v1/account/refresh"}, exit: 2, stderr: "dyorctl refresh"})
	f.do(run{what: "api, a header without a colon", args: []string{"api", "-H", "X-Bad", "/healthz"}, exit: 2, stderr: "no colon"})
	f.do(run{what: "exec, command lines printed", args: []string{"exec", "--", "sh", "-c",
		`test -n "$DYOR_TOKEN" && tr '\0' ' ' </proc/$$/cmdline && echo && tr '\0' ' ' </proc/$PPID/cmdline && echo`}, stdout: " exec -- sh -c "})
	f.do(run{what: "exec --min-ttl, the command fails", args: []string{"exec", "--min-ttl", "5m", "--", "sh", "-c", "echo failing >&2; exit 3"}, exit: 3, stderr: "failing"})
	f.do(run{what: "exec without a command", args: []string{"exec"}, exit: 2, stderr: "needs a command"})
	f.do(run{what: "exec, --min-ttl not a duration", args: []string{"exec", "--min-ttl", "soon", "--", "true"}, exit: 2, stderr: "--min-ttl"})

	// Credentials rejected (exit 5).
	f.do(run{what: "wrong password", args: []string{"login", "-u", "bob", "--password-stdin"}, stdin: stdin(wrongBob), exit: 5, stderr: "wrong password"})
	f.do(run{what: "wrong password", args: []string{"login", "-u", "dave", "-o", "json"}, env: []string{"DYOR_PASSWORD=" + wrongDave}, exit: 5, stderr: "wrong password"})
	f.do(run{what: "wrong password at the prompt", args: []string{"login", "-u", "carol"}, exit: 5, stderr: "wrong password",
		pty: []ptyAnswer{{"Password: ", wrongCarol}}})
	for _, o := range []string{"text", "json"} {
		f.do(run{what: "unknown account", args: []string{"login", "-u", "nobody", "--password-stdin", "-o", o}, stdin: stdin(pwUnknown), exit: 5, stderr: "no account named"})
	}
	f.do(run{what: "wrong password", args: []string{"login", "-u", "locky", "--password-stdin"}, stdin: stdin(wrongLocky1), exit: 5, stderr: "wrong password"})
	f.do(run{what: "wrong password, account now locked", args: []string{"login", "-u", "locky", "--password-stdin", "-o", "json"}, stdin: stdin(wrongLocky2), exit: 5, stderr: "wrong password"})
	for _, o := range []string{"text", "json"} {
		f.do(run{what: "locked account, right password", args: []string{"login", "-u", "locky", "--password-stdin", "-o", o}, stdin: stdin(pwLocky), exit: 5, stderr: "is locked"})
	}

	// Input refused before any request (exit 2).
	f.do(run{what: "no password source", args: []string{"login", "-u", "alice"}, exit: 2, stderr: "no password"})
	f.do(run{what: "no password source", args: []string{"register", "-u", "zed", "-o", "json"}, exit: 2, stderr: "no password"})
	f.do(run{what: "password too long", args: []string{"login", "-u", "alice", "--password-stdin"}, stdin: stdin(tooLong), exit: 2, stderr: "8 to 72 bytes"})
	f.do(run{what: "password too long", args: []string{"register", "-u", "zed", "-o", "json"}, env: []string{"DYOR_PASSWORD=" + tooLong}, exit: 2, stderr: "8 to 72 bytes"})
	f.do(run{what: "password too long at the prompt", args: []string{"login", "-u", "alice"}, exit: 2, stderr: "8 to 72 bytes",
		pty: []ptyAnswer{{"Password: ", tooLongTTY}}})
	f.do(run{what: "5000-byte password on stdin", args: []string{"login", "-u", "alice", "--password-stdin", "-o", "json"}, stdin: stdin(huge), exit: 2, stderr: "longer than"})
	f.do(run{what: "password as a flag value", args: []string{"login", "-u", "alice", "--password=" + pwFlag}, exit: 2, stderr: "unknown flag"})
	f.do(run{what: "password as a flag value", args: []string{"register", "-u", "zed", "--password", pwFlag, "-o", "json"}, exit: 2, stderr: "unknown flag"})
	f.do(run{what: "password too short", args: []string{"login", "-u", "alice", "--password-stdin"}, stdin: stdin(tooShort), exit: 2, stderr: "8 to 72 bytes"})
	for _, o := range []string{"text", "json"} {
		f.do(run{what: "password in the --server URL", server: "http://alice:" + pwInURL + "@127.0.0.1:1", args: []string{"status", "-o", o}, exit: 2, stderr: "carries credentials"})
	}
	f.do(run{what: "password as the value of -o", args: []string{"-o", pwAsOutput, "status"}, exit: 2, stderr: "-o takes text or json"})
	// A server that echoes the password and the Authorization header in
	// its error messages, with escape sequences.
	echo := echoingServer(t)
	for _, o := range []string{"text", "json"} {
		f.do(run{what: "login at a server that echoes the password", server: echo, args: []string{"login", "-u", "alice", "--password-stdin", "-o", o}, stdin: stdin(pwEchoed), exit: 1, stderr: "[redacted]"})
	}

	// Sessions that need a refresh or have expired: minted now, used once
	// their tokens have expired on this machine's clock.
	staleAlice := f.mint("alice", "1s", "")
	staleDead := f.mint("alice", "1s", "")
	expiredBob := f.mint("bob", "1s", "1s")
	expiredEnv := f.mint("alice", "1s", "")
	staleAPI := f.mint("alice", "1s", "")
	staleExec := f.mint("alice", "1s", "")
	var expiries []time.Time
	for _, mt := range []minted{staleAlice, staleDead, expiredBob, expiredEnv, staleAPI, staleExec} {
		tok, err := client.ParseTokens(mt.Token.Access, mt.Token.Refresh)
		if err != nil {
			t.Fatal(err)
		}
		expiries = append(expiries, tok.AccessExpiresAt)
	}
	bobTok, _ := client.ParseTokens(expiredBob.Token.Access, expiredBob.Token.Refresh)
	expiries = append(expiries, bobTok.RefreshExpiresAt)

	// The server failing (exit 6).
	f.fault("login", 500)
	f.do(run{what: "login, server answers 500", args: []string{"login", "-u", "alice", "--password-stdin"}, stdin: stdin(pwAlice), exit: 6, stderr: "server error"})
	f.do(run{what: "login", args: []string{"login", "-u", "alice", "--password-stdin"}, stdin: stdin(pwAlice)})
	f.fault("refresh", 503)
	f.do(run{what: "refresh, server answers 503", args: []string{"refresh"}, exit: 6, stderr: "server error"})
	f.fault("refresh", 503)
	f.do(run{what: "refresh, server answers 503", args: []string{"refresh", "-o", "json"}, exit: 6, stderr: "server error"})
	f.fault("logout", 502)
	f.do(run{what: "logout, server answers 502", args: []string{"logout"}, exit: 6, stderr: "server error"})
	f.do(run{what: "login", args: []string{"login", "-u", "alice", "--password-stdin"}, stdin: stdin(pwAlice)})
	f.fault("logout", 503)
	f.do(run{what: "logout, server answers 503", args: []string{"logout", "-o", "json"}, exit: 6, stderr: "server error"})
	for _, o := range []string{"text", "json"} {
		f.do(run{what: "login, server down", server: dead, args: []string{"login", "-u", "alice", "--password-stdin", "-o", o}, stdin: stdin(pwAlice), exit: 6, stderr: "cannot reach"})
	}

	waitPast(t, expiries...)
	f.store(f.mock.url, "alice", staleAlice)
	f.fault("refresh", 503)
	f.do(run{what: "token needing a refresh, server answers 503", args: []string{"token"}, token: true, exit: 6, stderr: "server error"})
	f.do(run{what: "token needing a refresh", args: []string{"token"}, token: true})
	f.store(f.mock.url, "alice", staleAPI)
	f.do(run{what: "api needing a refresh", args: []string{"api", "/healthz"}})
	f.store(f.mock.url, "alice", staleExec)
	f.do(run{what: "exec needing a refresh", args: []string{"exec", "--", "sh", "-c", `test -n "$DYOR_TOKEN"`}})
	f.store(dead, "alice", staleDead)
	f.do(run{what: "api, server down", server: dead, args: []string{"api", "-X", "POST", "/api/v1/orders", "-d", "{}"}, exit: 6, stderr: "cannot reach"})
	f.do(run{what: "exec, server down", server: dead, args: []string{"exec", "--", "true"}, exit: 6, stderr: "cannot reach"})
	f.do(run{what: "status, server down (offline)", server: dead, args: []string{"status"}})
	f.do(run{what: "token needing a refresh, server down", server: dead, args: []string{"token"}, token: true, exit: 6, stderr: "cannot reach"})
	f.do(run{what: "refresh, server down", server: dead, args: []string{"refresh"}, exit: 6, stderr: "cannot reach"})
	f.do(run{what: "refresh, server down", server: dead, args: []string{"refresh", "-o", "json"}, exit: 6, stderr: "cannot reach"})
	f.do(run{what: "logout, server down", server: dead, args: []string{"logout", "-o", "json"}, exit: 6, stderr: "cannot reach"})

	// The server no longer accepting the session (exit 4).
	f.do(run{what: "login", args: []string{"login", "-u", "alice", "--password-stdin"}, stdin: stdin(pwAlice)})
	f.revokeActive()
	// token works offline: it prints the revoked session's access token
	// until that needs a refresh (a known limit, docs/security.md).
	f.do(run{what: "token, session revoked", args: []string{"token"}, token: true})
	f.do(run{what: "refresh, session revoked", args: []string{"refresh"}, exit: 4, stderr: "session expired"})
	f.do(run{what: "login", args: []string{"login", "-u", "alice", "--password-stdin"}, stdin: stdin(pwAlice)})
	f.revokeActive()
	f.do(run{what: "refresh, session revoked", args: []string{"refresh", "-o", "json"}, exit: 4, stderr: "session expired"})
	for _, o := range []string{"text", "json"} {
		f.do(run{what: "login", args: []string{"login", "-u", "alice", "--password-stdin"}, stdin: stdin(pwAlice)})
		f.revokeActive()
		f.do(run{what: "logout, session revoked", args: []string{"logout", "-o", o}, exit: 4, stderr: "session expired"})
	}
	// Refresh-token reuse: a credentials file put back from before a
	// refresh presents a rotated refresh token; the server revokes the
	// chain and logs a warning.
	f.do(run{what: "login", args: []string{"login", "-u", "alice", "--password-stdin"}, stdin: stdin(pwAlice)})
	credPath := filepath.Join(f.dir, credstore.FileName)
	before, err := os.ReadFile(credPath)
	if err != nil {
		t.Fatal(err)
	}
	f.do(run{what: "refresh", args: []string{"refresh"}})
	if err := os.WriteFile(credPath, before, 0o600); err != nil {
		t.Fatal(err)
	}
	f.do(run{what: "refresh with a rotated refresh token (reuse)", args: []string{"refresh"}, exit: 4, stderr: "session expired"})
	if !strings.Contains(m.stderr.String(), "refresh token reused") {
		t.Error("dyormock logged no reuse warning: the reuse path was not taken")
	}
	// A session whose refresh token has expired.
	f.store(f.mock.url, "bob", expiredBob)
	f.do(run{what: "status, session expired", args: []string{"status"}, exit: 4, stderr: "session expired"})
	f.do(run{what: "status, session expired", args: []string{"status", "-o", "json"}, exit: 4, stderr: "session expired"})
	f.do(run{what: "token, session expired", args: []string{"token"}, token: true, exit: 4, stderr: "session expired"})
	f.store(f.mock.url, "bob", expiredBob)
	f.do(run{what: "refresh, session expired", args: []string{"refresh", "-o", "json"}, exit: 4, stderr: "session expired"})
	f.store(f.mock.url, "bob", expiredBob)
	f.do(run{what: "logout, session expired", args: []string{"logout"}, exit: 4, stderr: "session expired"})

	// DYOR_TOKEN: a valid token is used, never shown.
	envTok := f.mint("alice", "", "")
	for _, o := range []string{"text", "json"} {
		f.do(run{what: "status with DYOR_TOKEN", args: []string{"status", "-o", o}, env: []string{"DYOR_TOKEN=" + envTok.Token.Access}})
	}
	f.do(run{what: "token with DYOR_TOKEN", args: []string{"token"}, env: []string{"DYOR_TOKEN=" + envTok.Token.Access}, token: true})
	f.do(run{what: "refresh with DYOR_TOKEN set", args: []string{"refresh"}, env: []string{"DYOR_TOKEN=" + envTok.Token.Access}, exit: 4})
	for _, o := range []string{"text", "json"} {
		f.do(run{what: "status with an expired DYOR_TOKEN", args: []string{"status", "-o", o}, env: []string{"DYOR_TOKEN=" + expiredEnv.Token.Access}, exit: 4, stderr: "DYOR_TOKEN expired"})
	}
	f.do(run{what: "token with an expired DYOR_TOKEN", args: []string{"token"}, env: []string{"DYOR_TOKEN=" + expiredEnv.Token.Access}, token: true, exit: 4, stderr: "DYOR_TOKEN expired"})
	parts := strings.Split(envTok.Token.Refresh, ".")
	broken := parts[0] + "." + parts[1][:len(parts[1])-6] + "." + parts[2]
	l.token("a real token with its payload cut short, in DYOR_TOKEN", broken)
	for _, o := range []string{"text", "json"} {
		f.do(run{what: "status with an unreadable DYOR_TOKEN", args: []string{"status", "-o", o}, env: []string{"DYOR_TOKEN=" + broken}, exit: 2, stderr: "DYOR_TOKEN does not hold"})
	}
	f.do(run{what: "token with an unreadable DYOR_TOKEN", args: []string{"token"}, env: []string{"DYOR_TOKEN=" + broken}, token: true, exit: 2, stderr: "DYOR_TOKEN does not hold"})

	// A corrupt credentials file is reported and left as it is.
	f.do(run{what: "login", args: []string{"login", "-u", "alice", "--password-stdin"}, stdin: stdin(pwAlice)})
	good, err := os.ReadFile(credPath)
	if err != nil {
		t.Fatal(err)
	}
	access := []byte(`"access": "`)
	at := bytes.Index(good, access) + len(access) + 60      // in the middle of a token
	dot := at - 60 + bytes.IndexByte(good[at-60:], '.') + 1 // the payload of that token
	garbled := slices.Concat(good[:dot], []byte("x"), good[dot:])
	for i, corrupt := range [][]byte{good[:at], garbled} {
		kind := []string{"cut in the middle of a token", "a token's payload garbled"}[i]
		if err := os.WriteFile(credPath, corrupt, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"status"}, {"status", "-o", "json"}, {"token"}, {"refresh", "-o", "json"}, {"logout"}, {"switch", "-u", "bob"}} {
			f.do(run{what: "corrupt credentials file, " + kind, args: args, token: args[0] == "token", exit: 1, stderr: "unusable"})
		}
		f.do(run{what: "corrupt credentials file, " + kind, args: []string{"login", "-u", "alice", "--password-stdin"}, stdin: stdin(pwAlice), exit: 1, stderr: "unusable"})
		if now, _ := os.ReadFile(credPath); !bytes.Equal(now, corrupt) {
			t.Errorf("the corrupt credentials file (%s) was changed", kind)
		}
	}
	// Files that are not files: refused at once, never read.
	for kind, plant := range map[string]func() error{
		"a named pipe":        func() error { return syscall.Mkfifo(credPath, 0o600) },
		"a link to /dev/zero": func() error { return os.Symlink("/dev/zero", credPath) },
	} {
		if err := os.Remove(credPath); err != nil {
			t.Fatal(err)
		}
		if err := plant(); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"status", "-o", "json"}, {"token"}, {"refresh"}, {"logout"}} {
			f.do(run{what: "credentials file is " + kind, args: args, token: args[0] == "token", exit: 1, stderr: "not a regular file"})
		}
		f.do(run{what: "credentials file is " + kind, args: []string{"login", "-u", "alice", "--password-stdin"}, stdin: stdin(pwAlice), exit: 1, stderr: "not a regular file"})
	}
	_ = os.Remove(credPath)
	if err := os.WriteFile(credPath, good, 0o600); err != nil {
		t.Fatal(err)
	}

	// dyormock's clock moved ahead through its control plane: the next
	// refresh measures the offset, status warns about it, and the token
	// commands judge expiry on the server's clock.
	m.control(t, http.MethodPost, "/clock", `{"advance":"5m"}`)
	f.do(run{what: "refresh, server clock 5 minutes ahead", args: []string{"refresh"}})
	f.do(run{what: "status, server clock 5 minutes ahead", args: []string{"status"}, stdout: "server clock:  ", stderr: "ahead of this machine's"})
	f.do(run{what: "status, server clock 5 minutes ahead", args: []string{"status", "-o", "json"}, stdout: `"clock_offset_seconds":`, stderr: "ahead of this machine's"})
	f.do(run{what: "token --min-ttl, server clock 5 minutes ahead", args: []string{"token", "--min-ttl", "10m"}, token: true})
	f.do(run{what: "exec --min-ttl, server clock 5 minutes ahead", args: []string{"exec", "--min-ttl", "10m", "--", "true"}})

	// Logging out.
	f.do(run{what: "logout", args: []string{"logout"}})
	f.do(run{what: "login", args: []string{"login", "-u", "alice", "--password-stdin"}, stdin: stdin(pwAlice)})
	f.do(run{what: "logout", args: []string{"logout", "-o", "json"}})
	f.do(run{what: "login", args: []string{"login", "-u", "alice", "--password-stdin"}, stdin: stdin(pwAlice)})
	f.do(run{what: "logout --local-only", args: []string{"logout", "--local-only"}})
	f.do(run{what: "logout, not logged in", args: []string{"logout"}, exit: 4})
	f.do(run{what: "status at the end", args: []string{"status"}, exit: 4})
	f.do(run{what: "status at the end", args: []string{"status", "-o", "json"}, exit: 4})

	// The mock's side: its control plane's listings, its journal, then its
	// logs and state file once it has shut down.
	for _, path := range []string{"/requests", "/sessions", "/accounts", "/faults", "/clock"} {
		_, raw := m.control(t, http.MethodGet, path, "")
		l.record(capture{source: "dyormock", channel: "GET /_mock" + path, text: raw})
	}
	res, _ := m.control(t, http.MethodGet, "/requests", "")
	var journal struct {
		Requests []struct {
			Path   string `json:"path"`
			Status int    `json:"status"`
		} `json:"requests"`
	}
	if err := json.Unmarshal(res, &journal); err != nil {
		t.Fatal(err)
	}
	m.stop(t)
	l.record(capture{source: "dyormock", channel: "stdout", text: m.stdout.String()})
	l.record(capture{source: "dyormock", channel: "stderr (JSON logs at debug)", text: m.stderr.String()})
	state, err := os.ReadFile(m.state)
	if err != nil {
		t.Errorf("dyormock --state: %v", err)
	}
	l.record(capture{source: "dyormock", channel: "--state file", text: string(state)})

	// The flow covered what it meant to, and the ledger saw every token.
	issued, requestLines := 0, 0
	for _, r := range journal.Requests {
		if r.Status == 200 && (strings.HasSuffix(r.Path, "/login") || strings.HasSuffix(r.Path, "/refresh")) {
			issued++
		}
	}
	for _, line := range strings.Split(m.stderr.String(), "\n") {
		if strings.Contains(line, `"msg":"request"`) {
			requestLines++
		}
	}
	if requestLines < len(journal.Requests) {
		t.Errorf("dyormock logged %d request lines at debug for %d requests: the log channel is not what it seems", requestLines, len(journal.Requests))
	}
	harvested := 0
	for sid := range f.sids {
		if sid != "" && !f.minted[sid] {
			harvested++
		}
	}
	if harvested != issued {
		t.Errorf("the server issued %d token pairs (journal: login and refresh answered 200), the ledger holds tokens of %d of those sessions: the scan would miss some", issued, harvested)
	}
	t.Logf("%d dyorctl commands; dyormock served %d API requests, issued %d token pairs by login and refresh and %d by the control plane", f.n, len(journal.Requests), issued, len(f.minted))
}

// echoingServer is a hostile server on loopback: every answer is a 400002
// whose message repeats the request's password and Authorization header,
// with escape sequences that would retitle and clear a terminal.
func echoingServer(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
		var creds struct{ Password string }
		_ = json.Unmarshal(body, &creds)
		msg := "bad request: you sent " + r.Header.Get("Authorization") + " and the password " + creds.Password + "\x1b]0;PWNED\a\x1b[2J"
		out, _ := json.Marshal(map[string]any{"ok": false, "error": map[string]any{"code": 400002, "message": msg}})
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write(out)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
