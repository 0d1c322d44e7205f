package dyorctlcmd

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dyor-exchange/dyorctl/client"
	"github.com/dyor-exchange/dyorctl/mock"
)

// Tests of the real binary, run as a subprocess with no terminal: stdin is
// a pipe or /dev/null, stdout and stderr are pipes.

// dyorctlBinary builds cmd/dyorctl once per test run (skipped with -short).
func dyorctlBinary(t *testing.T) string {
	t.Helper()
	return binaries.Path(t, "dyorctl")
}

// binEnv is a clean environment for the binary: its own home and config
// dir, none of the caller's DYOR_* variables.
func binEnv(t *testing.T, configDir string, extra ...string) []string {
	home := t.TempDir()
	return append([]string{
		"HOME=" + home,
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"DYOR_CONFIG_DIR=" + configDir,
		"PATH=" + os.Getenv("PATH"),
	}, extra...)
}

// runBinary runs the binary with stdin (nil: /dev/null) and waits, at most
// 30 s: a run that takes longer is a hang. The budget starts once the
// binary is built, so a cold build cache cannot eat into it.
func runBinary(t *testing.T, env []string, stdin io.Reader, args ...string) result {
	t.Helper()
	bin := dyorctlBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("dyorctl %v hung (killed after 30 s); stderr %q", args, stderr.String())
	}
	code := 0
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, stdout.String(), stderr.String()}
}

func TestBinaryScriptedSession(t *testing.T) {
	t.Parallel()
	srv := mock.Start(t, mock.WithBcryptCost(4))
	dir := filepath.Join(t.TempDir(), "cfg")
	env := binEnv(t, dir)
	s := func(stdin io.Reader, args ...string) result {
		return runBinary(t, env, stdin, append([]string{"--server", srv.URL}, args...)...)
	}

	r := s(strings.NewReader("honeyBunnies\n"), "login", "-u", "john@API", "--password-stdin")
	wantExit(t, r, 0)
	checkModes(t, dir)

	r = s(nil, "token")
	wantExit(t, r, 0)
	token := strings.TrimSpace(r.stdout)
	if strings.Count(token, ".") != 2 {
		t.Errorf("token printed %q", r.stdout)
	}

	wantExit(t, s(nil, "refresh"), 0)

	r = s(nil, "status", "-o", "json")
	wantExit(t, r, 0)
	obj := decodeJSON(t, r.stdout)
	if accs, _ := obj["accounts"].([]any); len(accs) != 1 || accs[0].(map[string]any)["valid"] != true {
		t.Errorf("status %v", obj)
	}
	if strings.Contains(r.stdout, token) {
		t.Error("status -o json shows a token")
	}

	wantExit(t, s(nil, "logout"), 0)
	r = s(nil, "status")
	wantExit(t, r, 4)
	r = s(nil, "token")
	wantExit(t, r, 4)
	if r.stdout != "" {
		t.Errorf("token after logout printed %q", r.stdout)
	}
	if len(srv.Sessions()) != 0 {
		t.Errorf("live sessions after logout: %v", srv.Sessions())
	}
}

// Without a terminal and without a password source, login fails at once:
// stdin is a pipe kept open that never delivers anything, so a read would
// hang until the 30 s limit.
func TestBinaryNoTerminal(t *testing.T) {
	t.Parallel()
	srv := mock.Start(t, mock.WithBcryptCost(4))
	env := binEnv(t, filepath.Join(t.TempDir(), "cfg"))

	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pw.Close()
	defer pr.Close()
	start := time.Now()
	r := runBinary(t, env, pr, "--server", srv.URL, "login", "-u", "john@API")
	wantExit(t, r, 2)
	if !strings.Contains(r.stderr, "--password-stdin") || !strings.Contains(r.stderr, "DYOR_PASSWORD") {
		t.Errorf("stderr %q lacks the hint", r.stderr)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v to fail", d)
	}

	r = runBinary(t, env, pr, "register", "-u", "alice")
	wantExit(t, r, 2)

	r = runBinary(t, env, nil, "tui")
	wantExit(t, r, 2)
	if strings.TrimSpace(r.stderr) != "dyorctl tui needs a terminal; use the other commands in scripts" {
		t.Errorf("tui stderr %q", r.stderr)
	}

	r = runBinary(t, env, nil)
	wantExit(t, r, 0)
	if !strings.Contains(r.stdout, "Usage:") {
		t.Errorf("bare dyorctl in a pipe printed %q", r.stdout)
	}

	r = runBinary(t, env, nil, "demo")
	wantExit(t, r, 0)
	if !strings.HasSuffix(r.stdout, "login: ok\nrefresh: ok\nlogout: revoked\n") {
		t.Errorf("demo printed %q", r.stdout)
	}

	r = runBinary(t, append(env, "DYOR_PASSWORD=honeyBunnies"), nil, "--server", srv.URL, "login", "-u", "john@API", "-o", "json")
	wantExit(t, r, 0)
}

// 20 dyorctl token processes at once with an expired access token: one
// refresh reaches the server, every process prints the new token, and the
// session survives (no refresh token presented twice, so no reuse detected).
func TestBinaryConcurrentToken(t *testing.T) {
	t.Parallel()
	const procs = 20
	srv := mock.Start(t, mock.WithBcryptCost(4), mock.FailOnFindings()) // the real clock: the server and the CLI agree
	dir := filepath.Join(t.TempDir(), "cfg")
	c := &cli{t: t, srv: srv, dir: dir}
	// An access token that lives 1 s; the ones refresh issues live 15 min.
	stored, _ := c.saveMinted(john, time.Second, 0)
	waitUntil(t, 5*time.Second, "the access token to expire", func() bool {
		return time.Now().After(stored.AccessExpiresAt.Add(10 * time.Millisecond))
	})

	// Were two processes to refresh, this rule would hold them until both
	// came and let them collide; the one refresh that comes goes alone at
	// its timeout.
	if err := srv.AddFault(mock.Fault{Route: "refresh", Collide: 2, Timeout: 300 * time.Millisecond, Times: 1}); err != nil {
		t.Fatal(err)
	}

	env := binEnv(t, dir)
	cmds := make([]*exec.Cmd, procs)
	outs := make([]*bytes.Buffer, procs)
	errs := make([]*bytes.Buffer, procs)
	bin := dyorctlBinary(t) // built before the budget starts
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i := range cmds {
		cmds[i] = exec.CommandContext(ctx, bin, "--server", srv.URL, "token")
		cmds[i].Env = env
		outs[i], errs[i] = &bytes.Buffer{}, &bytes.Buffer{}
		cmds[i].Stdout, cmds[i].Stderr = outs[i], errs[i]
	}
	for i, cmd := range cmds {
		if err := cmd.Start(); err != nil {
			t.Fatalf("starting process %d: %v", i, err)
		}
	}
	tokens := map[string]int{}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("process %d: %v; stderr %q", i, err, errs[i].String())
			continue
		}
		tokens[strings.TrimSpace(outs[i].String())]++
	}
	if len(tokens) != 1 {
		t.Fatalf("the processes printed %d different tokens, want 1", len(tokens))
	}
	var token string
	for tok := range tokens {
		token = tok
	}
	if token == stored.Access {
		t.Fatal("the processes printed the expired token")
	}

	refreshes := 0
	for _, r := range srv.Requests() {
		if strings.HasSuffix(r.Path, "/refresh") {
			refreshes++
		}
	}
	if n := countRequests(srv, "refresh", 200); n != 1 || refreshes != 1 {
		t.Errorf("%d refresh requests, %d succeeded; want exactly 1", refreshes, n)
	}
	if hasCode(srv, 401004) {
		t.Error("a refresh was answered 401004: a refresh token was presented twice")
	}
	if j := srv.RequestsWhere(mock.RequestFilter{Route: "refresh"}); len(j) != 1 || j[0].Collision != mock.CollisionTimeout {
		t.Errorf("refreshes = %+v; want one, let go alone at the collision rule's timeout", j)
	}
	claims, err := client.ParseTokens(token, token)
	if err != nil {
		t.Fatal(err)
	}
	live := false
	for _, s := range srv.Sessions() {
		live = live || s.ID == claims.SessionID
	}
	if !live {
		t.Errorf("the session %s of the printed token is gone; live: %v", claims.SessionID, srv.Sessions())
	}
	if after, _ := c.stored(john); after.Tokens.Access != token {
		t.Error("the stored access token is not the printed one")
	}

	// The server accepts the token: logging out with it succeeds.
	req, _ := http.NewRequest(http.MethodDelete, srv.URL+"/api/v1/account/logout", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("logout with the printed token: %s", resp.Status)
	}
}
