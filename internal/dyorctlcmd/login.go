package dyorctlcmd

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	"github.com/dyor-exchange/dyorctl/client"
	"github.com/dyor-exchange/dyorctl/credstore"
)

// LoginOptions are the inputs of dyorctl login.
type LoginOptions struct {
	Factory *Factory

	Username      string
	PasswordStdin bool
}

// NewCmdLogin returns dyorctl login. runF, when not nil, replaces loginRun.
func NewCmdLogin(f *Factory, runF func(context.Context, *LoginOptions) error) *cobra.Command {
	opts := &LoginOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "login -u USERNAME [--password-stdin]",
		Short: "Log in and store the session's tokens",
		Long: `Log in, store the token pair, and make the account the server's active one.
Other stored accounts stay. An earlier session of the same username on the
server is logged out once the new one is saved.

The password is asked with echo off when stdin is a terminal. Otherwise it is
read from stdin with --password-stdin (one trailing newline removed), or taken
from DYOR_PASSWORD; with neither, login fails at once (exit 2).
--password-stdin, then DYOR_PASSWORD, take precedence over the prompt.

A wrong password, an unknown account or a locked account exit 5; an
unreachable server, a timeout or a 5xx exit 6.`,
		Example: `  dyorctl login -u john@API
  printf '%s\n' "$PASSWORD" | dyorctl login -u john@API --password-stdin
  DYOR_PASSWORD=... dyorctl --server http://127.0.0.1:8080 login -u john@API -o json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkUsername(opts.Username); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return loginRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Username, "username", "u", "", "the account's `USERNAME`")
	cmd.Flags().BoolVar(&opts.PasswordStdin, "password-stdin", false, "read the password from stdin")
	return cmd
}

func loginRun(ctx context.Context, opts *LoginOptions) error {
	f := opts.Factory
	server, err := f.Server()
	if err != nil {
		return err
	}
	st, err := f.Store()
	if err != nil {
		return err
	}
	// A corrupt file is reported before the password is asked for (and
	// again under the lock, where it counts).
	if _, err := st.Accounts(); err != nil {
		return err
	}
	pw, err := passwordSource{
		ios: f.IO, getenv: f.Getenv, fromStdin: opts.PasswordStdin,
		command: "login -u " + opts.Username,
	}.read(ctx, false)
	if err != nil {
		return err
	}
	c, err := f.NewClient(server, client.NewMemoryStore())
	if err != nil {
		return err
	}
	ctx, cancel := f.NetContext(ctx)
	defer cancel()
	// The store runs the login under its lock, once it has read the file
	// (a corrupt one stops us before the server creates a session) and made
	// sure it can write it (a full disk or a read-only directory too). It
	// decides there which earlier session of this username the new one
	// replaces, so that parallel logins each end the one before theirs.
	t, earlier, err := st.Login(ctx, server, func() (client.Tokens, error) {
		return c.Login(ctx, opts.Username, pw)
	})
	switch {
	case errors.Is(err, credstore.ErrUnsaved):
		// The server made a session that nothing stores: end it.
		ended := !t.IsZero() && endSession(ctx, f, server, t) == nil
		note := "the new session was not stored, and it could not be ended on the server either (it expires on its own)"
		if ended {
			note = "the new session was not stored, so it was logged out again"
		}
		return forAccount(opts.Username, &noteError{
			note: note + "; the stored tokens are as they were: make room or fix the directory, then log in again",
			err:  err,
		})
	case err != nil:
		return forAccount(opts.Username, err)
	}
	endedEarlier := false
	if !earlier.IsZero() && earlier.SessionID != t.SessionID {
		// Best effort: its tokens are no longer stored, so a failure only
		// leaves a session the server expires on its own.
		endedEarlier = endSession(ctx, f, server, earlier) == nil
	}

	if f.JSON() {
		return f.PrintJSON(newSessionJSON(server, t))
	}
	if endedEarlier {
		f.Messagef("Logged in to %s as %s (tokens stored in %s); the earlier session of %s was logged out.", server, t.Username, st.Path(), t.Username)
	} else {
		f.Messagef("Logged in to %s as %s (tokens stored in %s).", server, t.Username, st.Path())
	}
	return nil
}

// endSession logs out a session whose tokens are not (or no longer) in the
// store, on a client of its own.
func endSession(ctx context.Context, f *Factory, server string, t client.Tokens) error {
	mem := client.NewMemoryStore()
	if err := mem.Save(ctx, t); err != nil {
		return err
	}
	c, err := f.NewClient(server, mem)
	if err != nil {
		return err
	}
	return c.Logout(ctx)
}
