package dyorctlcmd

import (
	"context"

	"github.com/spf13/cobra"
)

// SwitchOptions are the inputs of dyorctl switch.
type SwitchOptions struct {
	Factory *Factory

	Username string
}

// NewCmdSwitch returns dyorctl switch. runF, when not nil, replaces
// switchRun.
func NewCmdSwitch(f *Factory, runF func(context.Context, *SwitchOptions) error) *cobra.Command {
	opts := &SwitchOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "switch -u USERNAME",
		Short: "Make another stored account of the server the active one",
		Long: `Make another stored account of the server the active one: the account that
token, refresh, logout and the app use. The account must have been logged in
with "dyorctl login" (exit 4 otherwise). No request is sent.`,
		Example: `  dyorctl switch -u alice
  dyorctl --server http://127.0.0.1:8080 switch -u john@API`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkUsername(opts.Username); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return switchRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Username, "username", "u", "", "the stored account's `USERNAME`")
	return cmd
}

func switchRun(ctx context.Context, opts *SwitchOptions) error {
	f := opts.Factory
	server, st, accounts, err := f.StoredAccounts()
	if err != nil {
		return err
	}
	found, valid := false, false
	for _, a := range accounts {
		if a.Server == server && a.Username == opts.Username {
			found, valid = true, a.Tokens.Refreshable(a.Tokens.ServerNow(f.Now()))
		}
	}
	if !found {
		return exitErrorf(exitAuth, "no stored account %s for %s: run \"dyorctl login -u %s\"", opts.Username, server, opts.Username)
	}
	if err := st.Switch(ctx, server, opts.Username); err != nil {
		return err
	}
	if f.JSON() {
		return f.PrintJSON(accountJSON{Server: server, Username: opts.Username})
	}
	if valid {
		f.Messagef("Switched to %s at %s.", opts.Username, server)
	} else {
		f.Messagef("Switched to %s at %s, but its session has expired: run \"dyorctl login -u %s\".", opts.Username, server, opts.Username)
	}
	return nil
}
