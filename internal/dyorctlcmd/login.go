package dyorctlcmd

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/dyor-exchange/dyorctl/client"
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
	// Read the store before logging in: a corrupt file stops us before the
	// server creates a session we could not save, and an earlier session of
	// this account is known, to be logged out afterwards.
	server, st, accounts, err := f.StoredAccounts()
	if err != nil {
		return err
	}
	var earlier client.Tokens
	for _, a := range accounts {
		if a.Server == server && a.Username == opts.Username {
			earlier = a.Tokens
		}
	}

	pw, err := passwordSource{
		ios: f.IO, getenv: f.Getenv, fromStdin: opts.PasswordStdin,
		command: "login -u " + opts.Username,
	}.read(ctx, false)
	if err != nil {
		return err
	}
	c, err := f.NewClient(server, st.ForServer(server))
	if err != nil {
		return err
	}
	ctx, cancel := f.NetContext(ctx)
	defer cancel()
	t, err := c.Login(ctx, opts.Username, pw)
	if err != nil {
		return forAccount(opts.Username, err)
	}
	if !earlier.IsZero() && earlier.SessionID != t.SessionID {
		logoutEarlier(ctx, f, server, earlier)
	}

	if f.JSON() {
		return f.PrintJSON(newSessionJSON(server, t))
	}
	f.Messagef("Logged in to %s as %s (tokens stored in %s).", server, t.Username, st.Path())
	return nil
}

// logoutEarlier ends a session the new login replaced, best effort: its
// tokens are no longer stored, so a failure only leaves a session the
// server expires on its own.
func logoutEarlier(ctx context.Context, f *Factory, server string, earlier client.Tokens) {
	mem := client.NewMemoryStore()
	if err := mem.Save(ctx, earlier); err != nil {
		return
	}
	c, err := f.NewClient(server, mem)
	if err != nil {
		return
	}
	_ = c.Logout(ctx)
}
