package dyorctlcmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dyor-exchange/dyorctl/api"
	"github.com/dyor-exchange/dyorctl/client"
)

// RegisterOptions are the inputs of dyorctl register.
type RegisterOptions struct {
	Factory *Factory

	Username      string
	PasswordStdin bool
}

// NewCmdRegister returns dyorctl register. runF, when not nil, replaces
// registerRun (tests check the parsed options through it).
func NewCmdRegister(f *Factory, runF func(context.Context, *RegisterOptions) error) *cobra.Command {
	opts := &RegisterOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "register -u USERNAME [--password-stdin]",
		Short: "Create an account (it does not log in)",
		Long: fmt.Sprintf(`Create an account on the server. It does not log in: run "dyorctl login" next.

The username is %d to %d characters without whitespace, control or format
characters; the password is %d to %d bytes. Input breaking these rules is a
usage error (exit 2) and is not sent.

The password is asked twice with echo off when stdin is a terminal. Otherwise
it is read from stdin with --password-stdin (one trailing newline removed), or
taken from DYOR_PASSWORD; with neither, register fails at once (exit 2).
--password-stdin, then DYOR_PASSWORD, take precedence over the prompt.`,
			api.MinUsernameRunes, api.MaxUsernameRunes, api.MinPasswordBytes, api.MaxPasswordBytes),
		Example: `  dyorctl register -u alice
  printf '%s\n' "$PASSWORD" | dyorctl register -u alice --password-stdin
  DYOR_PASSWORD=... dyorctl register -u alice -o json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkUsername(opts.Username); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return registerRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Username, "username", "u", "", "the account's `USERNAME`")
	cmd.Flags().BoolVar(&opts.PasswordStdin, "password-stdin", false, "read the password from stdin")
	return cmd
}

func registerRun(ctx context.Context, opts *RegisterOptions) error {
	f := opts.Factory
	server, err := f.Server()
	if err != nil {
		return err
	}
	pw, err := passwordSource{
		ios: f.IO, getenv: f.Getenv, fromStdin: opts.PasswordStdin,
		command: "register -u " + opts.Username,
	}.read(ctx, true)
	if err != nil {
		return err
	}
	c, err := f.NewClient(server, client.NewMemoryStore())
	if err != nil {
		return err
	}
	ctx, cancel := f.NetContext(ctx)
	defer cancel()
	if err := c.Register(ctx, opts.Username, pw); err != nil {
		return forAccount(opts.Username, err)
	}
	if f.JSON() {
		return f.PrintJSON(accountJSON{Server: server, Username: opts.Username})
	}
	f.Messagef("Registered %s at %s; log in with \"dyorctl login -u %s\".", opts.Username, server, opts.Username)
	return nil
}
