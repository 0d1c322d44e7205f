package dyorctlcmd

import (
	"context"

	"github.com/spf13/cobra"
)

// RefreshOptions are the inputs of dyorctl refresh.
type RefreshOptions struct {
	Factory *Factory
}

// NewCmdRefresh returns dyorctl refresh. runF, when not nil, replaces
// refreshRun.
func NewCmdRefresh(f *Factory, runF func(context.Context, *RefreshOptions) error) *cobra.Command {
	opts := &RefreshOptions{Factory: f}
	return &cobra.Command{
		Use:   "refresh",
		Short: "Rotate the active session and store the new token pair",
		Long: `Rotate the session of the server's active account now and store the new pair.
Parallel runs (and dyorctl token) share one rotation: a refresh token is never
presented twice.

When the server no longer accepts the session, or its refresh token has
expired, the stored entry is removed and refresh exits 4: log in again. An
unreachable server, a timeout or a 5xx exit 6 and keep the tokens.`,
		Example: `  dyorctl refresh
  dyorctl refresh -o json | jq -r .access_expires_at`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return refreshRun(cmd.Context(), opts)
		},
	}
}

func refreshRun(ctx context.Context, opts *RefreshOptions) error {
	f := opts.Factory
	server, c, current, err := f.ActiveSession(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := f.NetContext(ctx)
	defer cancel()
	t, err := c.Refresh(ctx)
	if err != nil {
		return forAccount(current.Username, err)
	}
	if f.JSON() {
		return f.PrintJSON(newSessionJSON(server, t))
	}
	f.Messagef("Refreshed the session of %s at %s; the access token %s.", t.Username, server, expiresIn(t.AccessExpiresAt, t.ServerNow(f.Now())))
	return nil
}
