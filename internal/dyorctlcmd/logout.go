package dyorctlcmd

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dyor-exchange/dyorctl/client"
	"github.com/dyor-exchange/dyorctl/credstore"
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
The account is the one active once logout holds the lock on the credentials
file; if another command removed it meanwhile, logout says so and exits 4.

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
	seen, err := store.Load(ctx)
	if errors.Is(err, client.ErrNotLoggedIn) {
		return notLoggedIn(st, server)
	} else if err != nil {
		return err
	}

	// What to log out is decided under the store's lock, on what is
	// stored then: another command may have switched accounts or logged
	// out while this one waited.
	netCtx, cancel := f.NetContext(ctx)
	defer cancel()
	var acted client.Tokens
	var serverErr error
	_, err = store.Update(netCtx, func(cur client.Tokens) (client.Tokens, error) {
		acted = cur
		if cur.IsZero() || opts.LocalOnly {
			return client.Tokens{}, nil
		}
		serverErr = endSession(netCtx, f, server, cur)
		return client.Tokens{}, nil // removed, whatever the server said
	})
	username := acted.Username
	switch {
	case err == nil && acted.IsZero():
		return exitErrorf(exitAuth, "not logged in to %s: another command removed the session of %s while this one waited, so there was nothing to log out and nothing was sent",
			server, seen.Username)
	case errors.Is(err, credstore.ErrUnsaved):
		what := "the server session was not revoked (--local-only)"
		switch {
		case opts.LocalOnly:
		case serverErr == nil:
			what = "the server session was revoked"
		case errors.Is(serverErr, client.ErrSessionInvalid):
			what = "the server had ended the session already"
		default:
			what = "the server could not be told (the session may still be live)"
		}
		return forAccount(username, &noteError{
			note: fmt.Sprintf("%s, but the stored tokens of %s could not be removed: make room or fix the directory, then run \"dyorctl logout --local-only\"", what, username),
			err:  err,
		})
	case err != nil:
		return forAccount(username, err)
	}

	changed := ""
	if username != seen.Username {
		changed = fmt.Sprintf(" (the active account now; it was %s when this command started)", seen.Username)
	}
	switch {
	case opts.LocalOnly:
	case errors.Is(serverErr, client.ErrSessionInvalid):
		return forAccount(username, serverErr) // exit 4: the server had ended it already
	case serverErr != nil:
		return forAccount(username, &noteError{
			note: fmt.Sprintf("the stored tokens of %s%s were removed, but the server session may still be live", username, changed),
			err:  serverErr,
		})
	}
	revoked := !opts.LocalOnly

	if f.JSON() {
		return f.PrintJSON(logoutJSON{Server: server, Username: username, Revoked: revoked})
	}
	if revoked {
		f.Messagef("Logged out %s%s from %s: the server session was revoked and the stored tokens were removed.", username, changed, server)
	} else {
		f.Messagef("Removed the stored tokens of %s%s for %s; the server session was not revoked (--local-only).", username, changed, server)
	}
	return nil
}
