package dyorctlcmd

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"

	"github.com/spf13/cobra"

	"github.com/dyor-exchange/dyorctl/client"
	"github.com/dyor-exchange/dyorctl/mock"
	"github.com/dyor-exchange/dyorctl/tui"
)

// DemoOptions are the inputs of dyorctl demo.
type DemoOptions struct {
	Factory *Factory
}

// demoJSON is what the scripted demo prints with -o json.
type demoJSON struct {
	Server   string `json:"server"`
	Username string `json:"username"`
	Register string `json:"register"`
	Login    string `json:"login"`
	Refresh  string `json:"refresh"`
	Logout   string `json:"logout"`
}

// NewCmdDemo returns dyorctl demo. runF, when not nil, replaces demoRun.
func NewCmdDemo(f *Factory, runF func(context.Context, *DemoOptions) error) *cobra.Command {
	opts := &DemoOptions{Factory: f}
	return &cobra.Command{
		Use:   "demo",
		Short: "Try dyorctl against an in-process mock server",
		Long: fmt.Sprintf(`Start a mock of the account API inside dyorctl, seeded with the account
%s / %s, and open the interactive app on it. Nothing is written
anywhere: the tokens stay in memory, and --server and --config-dir are
ignored.

Without a terminal it runs register (a fresh account) -> login -> refresh ->
logout instead and prints one line per step:

  register demo-1a2b3c: ok
  login: ok
  refresh: ok
  logout: revoked

It exits 0 only if every step succeeded; a failed step prints
"STEP: failed: REASON" and exits with that failure's code.`, mock.ExampleUsername, mock.ExamplePassword),
		Example: `  dyorctl demo
  dyorctl demo </dev/null   # the scripted run, as in CI`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return demoRun(cmd.Context(), opts)
		},
	}
}

func demoRun(ctx context.Context, opts *DemoOptions) error {
	f := opts.Factory
	// Cost 4: a demo shows the flow, not bcrypt's price.
	srv, err := mock.New(mock.WithBcryptCost(4))
	if err != nil {
		return err
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("demo: starting the mock server: %w", err)
	}
	srv.Serve(ln)
	f.serverURL = srv.URL // errors name the mock, not --server

	if f.IO.StdinTTY && f.IO.StdoutTTY {
		c, err := f.newClientWith(f.appHTTPClient(), srv.URL, client.NewMemoryStore())
		if err != nil {
			return err
		}
		return f.RunTUI(ctx, tui.Options{
			Client:    c,
			Server:    srv.URL,
			Input:     f.IO.In,
			Output:    f.IO.Out,
			AltScreen: true,
			// At most 80 columns: the app truncates longer lines.
			Banner: fmt.Sprintf("demo: in-process mock; log in as %s / %s (nothing is saved)",
				mock.ExampleUsername, mock.ExamplePassword),
		})
	}
	return demoScript(ctx, f, srv.URL)
}

// demoScript runs register -> login -> refresh -> logout on a fresh
// account, one line per step on stdout (or one JSON object at the end).
func demoScript(ctx context.Context, f *Factory, server string) error {
	c, err := f.NewClient(server, client.NewMemoryStore())
	if err != nil {
		return err
	}
	username := "demo-" + randomHex(3)
	password := randomHex(12)
	out := demoJSON{Server: server, Username: username}

	ctx, cancel := f.NetContext(ctx)
	defer cancel()
	steps := []struct {
		name   string // as printed
		result *string
		done   string
		run    func() error
	}{
		{"register " + username, &out.Register, "ok", func() error { return c.Register(ctx, username, password) }},
		{"login", &out.Login, "ok", func() error { _, err := c.Login(ctx, username, password); return err }},
		{"refresh", &out.Refresh, "ok", func() error { _, err := c.Refresh(ctx); return err }},
		{"logout", &out.Logout, "revoked", func() error { return c.Logout(ctx) }},
	}
	for _, step := range steps {
		if err := step.run(); err != nil {
			e := classify(forAccount(username, err), f.errContext())
			if !f.JSON() {
				fmt.Fprintf(f.IO.Out, "%s: failed: %s\n", step.name, e.Message)
			}
			return e
		}
		*step.result = step.done
		if !f.JSON() {
			fmt.Fprintf(f.IO.Out, "%s: %s\n", step.name, step.done)
		}
	}
	if f.JSON() {
		return f.PrintJSON(out)
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
