package dyorctlcmd

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dyor-exchange/dyorctl/client"
	"github.com/dyor-exchange/dyorctl/credstore"
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
presented twice. The account is the one active once refresh holds the lock on
the credentials file; if another command switched accounts meanwhile, refresh
says which one it refreshed.

When the credentials file cannot be written (a full disk, a read-only
directory), nothing is sent and refresh exits 1: the stored tokens still work.

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
	ctx, cancel := f.NetContext(ctx)
	defer cancel()

	// What to refresh is decided under the store's lock, on what is stored
	// then: another command may have refreshed, switched or logged out
	// while this one waited for the lock.
	var acted client.Tokens
	shared := false
	t, err := store.Update(ctx, func(cur client.Tokens) (client.Tokens, error) {
		acted = cur
		switch {
		case cur.IsZero():
			return cur, client.ErrNotLoggedIn
		case cur.Username == seen.Username && cur.Refresh != seen.Refresh:
			// Rotated by another command just now: presenting the old
			// refresh token would be reuse, and rotating again is no use.
			shared = true
			return cur, nil
		}
		return rotate(ctx, f, server, cur)
	})
	switch {
	case acted.IsZero() && errors.Is(err, client.ErrNotLoggedIn):
		return exitErrorf(exitAuth, "not logged in to %s: another command removed the session of %s while this one waited, and nothing was sent: run \"dyorctl login -u %s\"",
			server, seen.Username, seen.Username)
	case errors.Is(err, credstore.ErrUnsaved):
		return forAccount(acted.Username, &noteError{
			note: fmt.Sprintf("the server rotated the session of %s but the new tokens could not be written, so the stored ones no longer work: make room or fix the directory, then run \"dyorctl login -u %s\"",
				acted.Username, acted.Username),
			err: err,
		})
	case err != nil:
		return forAccount(acted.Username, err)
	}
	if f.JSON() {
		return f.PrintJSON(newSessionJSON(server, t))
	}
	expiry := expiresIn(t.AccessExpiresAt, t.ServerNow(f.Now()))
	switch {
	case shared:
		f.Messagef("The session of %s at %s was refreshed by another command while this one waited, so it was not refreshed again; the access token %s.", t.Username, server, expiry)
	case t.Username != seen.Username:
		f.Messagef("Refreshed the session of %s at %s, the active account now (it was %s when this command started); the access token %s.", t.Username, server, seen.Username, expiry)
	default:
		f.Messagef("Refreshed the session of %s at %s; the access token %s.", t.Username, server, expiry)
	}
	return nil
}

// rotate refreshes cur on a client of its own, for a caller that holds the
// store's lock, and returns what should be stored: the new pair; zero
// tokens when the server no longer accepts the session (or its refresh
// token expired); cur after a network error or a 5xx.
func rotate(ctx context.Context, f *Factory, server string, cur client.Tokens) (client.Tokens, error) {
	mem := client.NewMemoryStore()
	if err := mem.Save(ctx, cur); err != nil {
		return cur, err
	}
	c, err := f.NewClient(server, mem)
	if err != nil {
		return cur, err
	}
	next, err := c.Refresh(ctx)
	if err != nil {
		// The SDK removed the pair from mem when the session is dead, and
		// kept it otherwise.
		left, _ := mem.Load(ctx)
		return left, err
	}
	return next, nil
}
