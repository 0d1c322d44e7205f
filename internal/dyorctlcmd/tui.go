package dyorctlcmd

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/dyor-exchange/dyorctl/client"
	"github.com/dyor-exchange/dyorctl/tui"
)

// NewCmdTUI returns dyorctl tui. runF, when not nil, replaces tuiRun.
func NewCmdTUI(f *Factory, runF func(context.Context, *Factory) error) *cobra.Command {
	return &cobra.Command{
		Use:   "tui",
		Short: "Open the interactive app",
		Long: `Open the interactive app: every stored account of every server in one list
(Enter opens one and makes it its server's active account, d logs it out, n
logs in to another, / filters), a dashboard of a session with lifetime bars,
refresh, logout, auto-refresh and a history of what happened, and login and
register forms for any server (--server fills them in). It uses the same
stored credentials as the other commands. A bare "dyorctl" in a terminal
opens it too; ? shows every key.

It needs a terminal on stdin and stdout (exit 2 otherwise); in scripts, use
the other commands.`,
		Example: `  dyorctl tui
  dyorctl --server http://127.0.0.1:8080 tui`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), f)
			}
			return tuiRun(cmd.Context(), f)
		},
	}
}

func tuiRun(ctx context.Context, f *Factory) error {
	if !f.IO.StdinTTY || !f.IO.StdoutTTY {
		return usageErrorf("dyorctl tui needs a terminal; use the other commands in scripts")
	}
	server, err := f.Server()
	if err != nil {
		return err
	}
	st, err := f.Store()
	if err != nil {
		return err
	}
	// Fail on a corrupt file here, with its path, rather than in the app.
	if _, err := st.Accounts(); err != nil {
		return err
	}
	hc := f.appHTTPClient()
	return f.RunTUI(ctx, tui.Options{
		Accounts: st,
		NewClient: func(server string, store client.TokenStore) (*client.Client, error) {
			return f.newClientWith(hc, server, store)
		},
		Server:    server,
		Input:     f.IO.In,
		Output:    f.IO.Out,
		AltScreen: true,
	})
}
