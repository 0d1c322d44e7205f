package dyorctlcmd

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dyor-exchange/dyorctl/client"
	"github.com/dyor-exchange/dyorctl/mock"
)

func TestExecEnvironment(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.login(john, johnPW)
	acc, _ := c.stored(john)
	c.setup = func(f *Factory) {
		f.Environ = func() []string {
			return []string{"PATH=" + os.Getenv("PATH"), "DYOR_PASSWORD=" + johnPW, "DYOR_TOKEN=stale", "KEEP=me"}
		}
	}
	r := c.run("", "exec", "--", "sh", "-c", `printf '%s\n%s\n%s\n%s\n' "$DYOR_TOKEN" "$DYOR_SERVER" "${DYOR_PASSWORD-unset}" "$KEEP"`)
	wantExit(t, r, 0)
	want := acc.Tokens.Access + "\n" + c.srv.URL + "\nunset\nme\n"
	if r.stdout != want {
		t.Errorf("the command printed %q, want token, server, no password, the rest of the environment", r.stdout)
	}
	if r.stderr != "" {
		t.Errorf("exec wrote on stderr: %q", r.stderr)
	}
}

func TestExecPassesThrough(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.login(john, johnPW)
	tests := []struct {
		name, stdin    string
		args           []string
		code           int
		stdout, stderr string
	}{
		{"exit code", "", []string{"sh", "-c", "echo out; echo err >&2; exit 7"}, 7, "out\n", "err\n"},
		{"stdin", "hello\n", []string{"cat"}, 0, "hello\n", ""},
		{"the command's flags are its own", "", []string{"sh", "-c", `echo "$1"`, "x", "-v", "--min-ttl"}, 0, "-v\n", ""},
		{"killed by a signal", "", []string{"sh", "-c", "kill -TERM $$"}, 128 + int(syscall.SIGTERM), "", ""},
	}
	for _, tt := range tests {
		r := c.run(tt.stdin, append([]string{"exec", "--"}, tt.args...)...)
		if r.code != tt.code || r.stdout != tt.stdout || r.stderr != tt.stderr {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want %d, %q, %q", tt.name, r.code, r.stdout, r.stderr, tt.code, tt.stdout, tt.stderr)
		}
	}
	// Without "--" too, as long as the command comes first.
	if r := c.run("", "exec", "true"); r.code != 0 {
		t.Errorf("exec true: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestExecMinTTL(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.login(john, johnPW)
	before, _ := c.stored(john)
	c.later(12 * time.Minute) // 3 minutes left

	r := c.run("", "exec", "--min-ttl", "10m", "--", "sh", "-c", `printf %s "$DYOR_TOKEN"`)
	wantExit(t, r, 0)
	got, err := client.ParseTokens(r.stdout, r.stdout)
	if err != nil {
		t.Fatalf("the command got %q: %v", r.stdout, err)
	}
	if r.stdout == before.Tokens.Access {
		t.Error("the command got the token with 3 minutes left")
	}
	if left := got.AccessExpiresAt.Sub(c.srv.Now()); left < 10*time.Minute {
		t.Errorf("the command's token lives %v more, want at least 10m", left)
	}
}

func TestExecFailsBeforeRunning(t *testing.T) {
	t.Parallel()
	marker := func(t *testing.T) (string, []string) {
		file := filepath.Join(t.TempDir(), "ran")
		return file, []string{"sh", "-c", "touch " + file}
	}
	tests := []struct {
		name    string
		opts    []mock.Option
		login   bool
		args    []string // the command follows when the last is "--"
		command bool
		code    int
		want    string
	}{
		{"no command", nil, true, nil, false, 2, "needs a command"},
		{"no command after --", nil, true, []string{"--"}, false, 2, "needs a command"},
		{"bad --min-ttl", nil, true, []string{"--min-ttl", "soon", "--"}, true, 2, "--min-ttl"},
		{"-o json", nil, true, []string{"-o", "json", "--"}, true, 2, "run it without -o"},
		{"not logged in", nil, false, []string{"--"}, true, 4, "not logged in"},
		{"tokens shorter than --min-ttl", []mock.Option{mock.WithAccessTTL(5 * time.Minute)}, true, []string{"--min-ttl", "30m", "--"}, true, 1, "none stays valid for --min-ttl 30m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newCLI(t, tt.opts...)
			if tt.login {
				c.login(john, johnPW)
			}
			file, command := marker(t)
			args := append([]string{"exec"}, tt.args...)
			if tt.command {
				args = append(args, command...)
			}
			r := c.run("", args...)
			wantExit(t, r, tt.code)
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr %q, want it to say %q", r.stderr, tt.want)
			}
			if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
				t.Error("the command ran")
			}
		})
	}
	t.Run("command not found", func(t *testing.T) {
		t.Parallel()
		c := newCLI(t)
		c.login(john, johnPW)
		r := c.run("", "exec", "--", "no-such-command-dyorctl-test")
		wantExit(t, r, 127)
		if !strings.Contains(r.stderr, `cannot run "no-such-command-dyorctl-test"`) {
			t.Errorf("stderr %q", r.stderr)
		}
	})
}

// SIGTERM sent to dyorctl reaches the command, a second one too (dyorctl
// does not die of it), and dyorctl exits with the command's code.
func TestBinaryExecForwardsSIGTERM(t *testing.T) {
	t.Parallel()
	srv := mock.Start(t, mock.WithBcryptCost(4))
	dir := filepath.Join(t.TempDir(), "cfg")
	env := binEnv(t, dir, "DYOR_SERVER="+srv.URL)
	wantExit(t, runBinary(t, env, strings.NewReader(johnPW+"\n"), "login", "-u", john, "--password-stdin"), 0)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	script := `n=0; trap 'n=$((n+1)); echo "TERM $n"; if [ $n -ge 2 ]; then kill $pid; exit 42; fi' TERM; ` +
		`sleep 30 & pid=$!; echo ready; while :; do wait $pid; done`
	cmd := exec.CommandContext(ctx, dyorctlBinary(t), "exec", "--", "sh", "-c", script)
	cmd.Env = env
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() || lines.Text() != "ready" {
		t.Fatalf("the command did not start: %q, stderr %q", lines.Text(), stderr.String())
	}
	var rest []string
	for i := 1; i <= 2; i++ {
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if !lines.Scan() {
			break
		}
		rest = append(rest, lines.Text())
	}
	for lines.Scan() {
		rest = append(rest, lines.Text())
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 42 {
		t.Errorf("dyorctl exec ended with %v, want exit 42 (the command's); stderr %q", err, stderr.String())
	}
	if strings.Join(rest, "\n") != "TERM 1\nTERM 2" {
		t.Errorf("the command printed %q after the signals, want both", rest)
	}
}
