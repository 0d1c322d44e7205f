package dyorctlcmd

import (
	"context"
	"errors"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/dyor-exchange/dyorctl/tui"
)

// fakeTerminal makes stdin and stdout terminals whose password prompts
// answer from answers, in order, and records the prompts.
type fakeTerminal struct {
	mu      sync.Mutex
	answers []string
	prompts []string
}

func (ft *fakeTerminal) install(f *Factory) {
	f.IO.StdinTTY, f.IO.StdoutTTY = true, true
	f.IO.ReadPassword = func(ctx context.Context, prompt string) (string, error) {
		ft.mu.Lock()
		defer ft.mu.Unlock()
		ft.prompts = append(ft.prompts, prompt)
		if len(ft.answers) == 0 {
			return "", errors.New("the test has no more answers")
		}
		a := ft.answers[0]
		ft.answers = ft.answers[1:]
		return a, nil
	}
}

func TestPasswordPrompt(t *testing.T) {
	t.Parallel()

	t.Run("register asks twice", func(t *testing.T) {
		t.Parallel()
		c := newCLI(t)
		ft := &fakeTerminal{answers: []string{"alicePassword", "alicePassword"}}
		c.setup = ft.install
		wantExit(t, c.run("", "register", "-u", "alice"), 0)
		if strings.Join(ft.prompts, "|") != "Password: |Confirm password: " {
			t.Errorf("prompts %q", ft.prompts)
		}
		if len(c.srv.Accounts()) != 2 {
			t.Errorf("accounts %v", c.srv.Accounts())
		}
	})

	t.Run("register mismatch", func(t *testing.T) {
		t.Parallel()
		c := newCLI(t)
		c.setup = (&fakeTerminal{answers: []string{"alicePassword", "alicePassw0rd"}}).install
		r := c.run("", "register", "-u", "alice")
		wantExit(t, r, 2)
		if !strings.Contains(r.stderr, "the passwords do not match") {
			t.Errorf("stderr %q", r.stderr)
		}
		if n := countRequests(c.srv, "register", 200); n != 0 {
			t.Error("register was sent with mismatched passwords")
		}
	})

	t.Run("login asks once", func(t *testing.T) {
		t.Parallel()
		c := newCLI(t)
		ft := &fakeTerminal{answers: []string{johnPW}}
		c.setup = ft.install
		wantExit(t, c.run("", "login", "-u", john), 0)
		if len(ft.prompts) != 1 {
			t.Errorf("prompts %q", ft.prompts)
		}
	})

	t.Run("password-stdin beats the prompt", func(t *testing.T) {
		t.Parallel()
		c := newCLI(t)
		ft := &fakeTerminal{}
		c.setup = ft.install
		wantExit(t, c.run(johnPW+"\n", "login", "-u", john, "--password-stdin"), 0)
		if len(ft.prompts) != 0 {
			t.Errorf("prompted with --password-stdin: %q", ft.prompts)
		}
	})

	t.Run("DYOR_PASSWORD", func(t *testing.T) {
		t.Parallel()
		c := newCLI(t)
		c.env["DYOR_PASSWORD"] = johnPW
		wantExit(t, c.run("", "login", "-u", john), 0)
	})

	t.Run("cancelled prompt", func(t *testing.T) {
		t.Parallel()
		c := newCLI(t)
		c.setup = func(f *Factory) {
			f.IO.StdinTTY = true
			f.IO.ReadPassword = func(ctx context.Context, prompt string) (string, error) { return "", context.Canceled }
		}
		r := c.run("", "login", "-u", john)
		wantExit(t, r, 2)
		if strings.TrimSpace(r.stderr) != "cancelled" {
			t.Errorf("stderr %q", r.stderr)
		}
	})
}

// --password-stdin trims one trailing newline, and only one.
func TestPasswordStdinNewlines(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		stdin string
		code  int
	}{
		{johnPW, 0},
		{johnPW + "\n", 0},
		{johnPW + "\r\n", 0},
		{johnPW + "\n\n", 5}, // "honeyBunnies\n" is another password
		{" " + johnPW + "\n", 5},
	} {
		t.Run(strings.NewReplacer("\n", `\n`, "\r", `\r`).Replace(tc.stdin), func(t *testing.T) {
			t.Parallel()
			c := newCLI(t)
			wantExit(t, c.run(tc.stdin, "login", "-u", john, "--password-stdin"), tc.code)
		})
	}
}

func TestVerboseTraceRedacts(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	r := c.run(johnPW+"\n", "-v", "login", "-u", john, "--password-stdin")
	wantExit(t, r, 0)
	if !regexp.MustCompile(`(?m)^> POST `+regexp.QuoteMeta(c.srv.URL)+`/api/v1/account/login$`).MatchString(r.stderr) ||
		!regexp.MustCompile(`(?m)^< 200 OK \(\d+ms\)$`).MatchString(r.stderr) {
		t.Errorf("login trace:\n%s", r.stderr)
	}
	first, _ := c.stored(john)

	c.later(16 * time.Minute) // the access token expired: token refreshes
	r = c.run("", "--verbose", "token")
	wantExit(t, r, 0)
	if !strings.Contains(r.stderr, "> GET "+c.srv.URL+"/api/v1/account/refresh\n> Authorization: Bearer [redacted]\n< 200 OK (") {
		t.Errorf("token trace:\n%s", r.stderr)
	}
	second, _ := c.stored(john)
	r2 := c.run("", "-v", "logout")
	wantExit(t, r2, 0)
	all := r.stderr + r2.stderr
	if strings.Contains(all, johnPW) {
		t.Error("the trace shows the password")
	}
	noTokens(t, all, first.Tokens)
	noTokens(t, all, second.Tokens)
	if !strings.Contains(r2.stderr, "> DELETE "+c.srv.URL+"/api/v1/account/logout") {
		t.Errorf("logout trace:\n%s", r2.stderr)
	}
}

func TestEnvironment(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.env["DYOR_SERVER"] = c.srv.URL
	c.env["DYOR_CONFIG_DIR"] = c.dir
	r := c.runRaw(context.Background(), johnPW+"\n", "login", "-u", john, "--password-stdin")
	wantExit(t, r, 0)
	if _, ok := c.stored(john); !ok {
		t.Fatal("login with DYOR_SERVER and DYOR_CONFIG_DIR stored nothing there")
	}
	// Flags beat the environment.
	c.env["DYOR_SERVER"] = "http://127.0.0.1:1"
	r = c.runRaw(context.Background(), "", "--server", c.srv.URL, "refresh")
	wantExit(t, r, 0)
}

func TestDemoScripted(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	r := c.run("", "demo")
	wantExit(t, r, 0)
	if !regexp.MustCompile(`^register demo-[0-9a-f]{6}: ok\nlogin: ok\nrefresh: ok\nlogout: revoked\n$`).MatchString(r.stdout) {
		t.Errorf("demo stdout %q", r.stdout)
	}
	if _, err := os.Stat(c.dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("demo touched the config dir: %v", err)
	}
	if len(c.srv.Requests()) != 0 {
		t.Error("demo talked to --server")
	}

	r = c.run("", "demo", "-o", "json")
	wantExit(t, r, 0)
	obj := decodeJSON(t, r.stdout)
	if obj["register"] != "ok" || obj["login"] != "ok" || obj["refresh"] != "ok" || obj["logout"] != "revoked" {
		t.Errorf("demo JSON %v", obj)
	}
}

func TestTUIWiring(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		args     []string
		tty      bool
		wantTUI  bool
		code     int
		banner   bool
		wantHelp bool
	}{
		{name: "tui", args: []string{"tui"}, tty: true, wantTUI: true},
		{name: "bare in a terminal", args: nil, tty: true, wantTUI: true},
		{name: "bare in a pipe", args: nil, wantHelp: true},
		{name: "tui in a pipe", args: []string{"tui"}, code: 2},
		{name: "demo in a terminal", args: []string{"demo"}, tty: true, wantTUI: true, banner: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newCLI(t)
			var got *tui.Options
			c.setup = func(f *Factory) {
				f.IO.StdinTTY, f.IO.StdoutTTY = tc.tty, tc.tty
				f.RunTUI = func(ctx context.Context, opts tui.Options) error {
					got = &opts
					return nil
				}
			}
			r := c.run("", tc.args...)
			wantExit(t, r, tc.code)
			if (got != nil) != tc.wantTUI {
				t.Fatalf("TUI started: %v, want %v", got != nil, tc.wantTUI)
			}
			if tc.wantHelp && !strings.Contains(r.stdout, "Usage:") {
				t.Errorf("stdout %q, want the help", r.stdout)
			}
			if got == nil {
				return
			}
			if !got.AltScreen || got.Input == nil || got.Output == nil {
				t.Errorf("options %+v", got)
			}
			if tc.banner {
				if got.Client == nil || got.Server == c.srv.URL || !strings.Contains(got.Banner, "john@API / honeyBunnies") {
					t.Errorf("demo options %+v", got)
				}
				return
			}
			// The app gets the credentials file and makes its clients.
			if got.Accounts == nil || got.NewClient == nil {
				t.Fatalf("options %+v", got)
			}
			if _, err := got.Accounts.Accounts(); err != nil {
				t.Errorf("the app's accounts: %v", err)
			}
			cl, err := got.NewClient(c.srv.URL, got.Accounts.ForServer(c.srv.URL))
			if got.Server != c.srv.URL || err != nil || cl.BaseURL() != c.srv.URL {
				t.Errorf("server %q, client %v, want %q", got.Server, err, c.srv.URL)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	r := c.run("", "--help")
	wantExit(t, r, 0)
	for _, want := range []string{"Exit codes:", "DYOR_SERVER", "DYOR_CONFIG_DIR", "DYOR_PASSWORD", "DYOR_TOKEN", "credentials.json", "Examples:"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("dyorctl --help does not mention %q", want)
		}
	}
	root := NewCmdRoot(NewFactory(&IOStreams{}, func(string) string { return "" }))
	var walk func(cmd *cobra.Command)
	walk = func(cmd *cobra.Command) {
		if cmd.Hidden || cmd.Name() == "help" || cmd.HasParent() && cmd.Parent().Name() == "completion" {
			return
		}
		if cmd.Example == "" && cmd.Name() != "completion" {
			t.Errorf("%s has no examples", cmd.CommandPath())
		}
		args := append(strings.Fields(strings.TrimPrefix(cmd.CommandPath(), "dyorctl")), "--help")
		r := c.run("", args...)
		wantExit(t, r, 0)
		if !strings.Contains(r.stdout, "Usage:") || r.stderr != "" {
			t.Errorf("%v: %q / %q", args, r.stdout, r.stderr)
		}
		for _, sub := range cmd.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

func TestCompletionAndVersion(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		r := c.run("", "completion", shell)
		wantExit(t, r, 0)
		if !strings.Contains(r.stdout, "dyorctl") || r.stderr != "" {
			t.Errorf("completion %s: %d bytes on stdout, stderr %q", shell, len(r.stdout), r.stderr)
		}
	}
	r := c.run("", "version")
	wantExit(t, r, 0)
	if !strings.HasPrefix(r.stdout, "dyorctl ") {
		t.Errorf("version %q", r.stdout)
	}
}

func TestUserAgent(t *testing.T) {
	t.Parallel()
	if ua := userAgent(); !regexp.MustCompile(`^dyorctl/\S+$`).MatchString(ua) {
		t.Errorf("user agent %q", ua)
	}
}

// Options parsing through runF, as in gh's tests: no server needed.
func TestLoginOptions(t *testing.T) {
	t.Parallel()
	ios, _, _ := newTestIO("")
	f := NewFactory(ios, func(string) string { return "" })
	var got *LoginOptions
	cmd := NewCmdLogin(f, func(ctx context.Context, o *LoginOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"-u", "john@API", "--password-stdin"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got == nil || got.Username != "john@API" || !got.PasswordStdin {
		t.Errorf("options %+v", got)
	}
}
