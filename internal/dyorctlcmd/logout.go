package dyorctlcmd

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	"github.com/dyor-exchange/dyorctl/client"
)

// LogoutOptions are the inputs of dyorctl logout.
type LogoutOptions struct {
	Factory *Factory

	LocalOnly bool
}

// logoutJSON is what logout prints with -o json.
type logoutJSON struct {
	Server   string `json:"server"`
	Username string `json:"username"`
	Revoked  bool   `json:"revoked"`
}

// NewCmdLogout returns dyorctl logout. runF, when not nil, replaces
// logoutRun.
func NewCmdLogout(f *Factory, runF func(context.Context, *LogoutOptions) error) *cobra.Command {
	opts := &LogoutOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "logout [--local-only]",
		Short: "End the active session and remove its stored tokens",
		Long: `Delete the session of the server's active account on the server, then remove
its stored entry, always, and say whether the server session was revoked.
Afterwards no account of that server is active until "dyorctl switch" or
"dyorctl login".

With --local-only the server is not called: only the stored entry is removed.

When the server cannot be reached, times out or answers 5xx, the entry is
removed anyway and logout exits 6 (the server session may still be live).
When the server no longer knew the session, logout exits 4.`,
		Example: `  dyorctl logout
  dyorctl logout --local-only
  dyorctl logout -o json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return logoutRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.LocalOnly, "local-only", false, "only remove the stored tokens; do not call the server")
	return cmd
}

func logoutRun(ctx context.Context, opts *LogoutOptions) error {
	f := opts.Factory
	server, err := f.Server()
	if err != nil {
		return err
	}
	st, err := f.Store()
	if err != nil {
		return err
	}
	store := st.ForServer(server)
	c, err := f.NewClient(server, store)
	if err != nil {
		return err
	}
	current, err := c.Tokens(ctx)
	if errors.Is(err, client.ErrNotLoggedIn) {
		return notLoggedIn(st, server)
	} else if err != nil {
		return err
	}
	username := current.Username

	revoked := false
	if opts.LocalOnly {
		if err := store.Delete(ctx); err != nil {
			return err
		}
	} else {
		netCtx, cancel := f.NetContext(ctx)
		defer cancel()
		err := c.Logout(netCtx)
		switch {
		case errors.Is(err, client.ErrSessionInvalid):
			return forAccount(username, err) // exit 4: the server had ended it already
		case err != nil:
			return forAccount(username, &noteError{
				note: "the stored tokens were removed, but the server session may still be live",
				err:  err,
			})
		}
		revoked = true
	}

	if f.JSON() {
		return f.PrintJSON(logoutJSON{Server: server, Username: username, Revoked: revoked})
	}
	if revoked {
		f.Messagef("Logged out %s from %s: the server session was revoked and the stored tokens were removed.", username, server)
	} else {
		f.Messagef("Removed the stored tokens of %s for %s; the server session was not revoked (--local-only).", username, server)
	}
	return nil
}
