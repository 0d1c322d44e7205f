package dyorctlcmd

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/dyor-exchange/dyorctl/tui"
)

// NewCmdTUI returns dyorctl tui. runF, when not nil, replaces tuiRun.
func NewCmdTUI(f *Factory, runF func(context.Context, *Factory) error) *cobra.Command {
	return &cobra.Command{
		Use:   "tui",
		Short: "Open the interactive app",
		Long: `Open the interactive app: log in or register from a menu, then a dashboard of
the session with refresh, logout and auto-refresh. It uses the same stored
credentials as the other commands. A bare "dyorctl" in a terminal opens it
too.

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
	c, err := f.newClientWith(f.appHTTPClient(), server, st.ForServer(server))
	if err != nil {
		return err
	}
	return f.RunTUI(ctx, tui.Options{
		Client:    c,
		Server:    server,
		Input:     f.IO.In,
		Output:    f.IO.Out,
		AltScreen: true,
	})
}
