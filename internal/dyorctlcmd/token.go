package dyorctlcmd

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/dyor-exchange/dyorctl/client"
)

// TokenOptions are the inputs of dyorctl token.
type TokenOptions struct {
	Factory *Factory
}

// NewCmdToken returns dyorctl token. runF, when not nil, replaces tokenRun.
func NewCmdToken(f *Factory, runF func(context.Context, *TokenOptions) error) *cobra.Command {
	opts := &TokenOptions{Factory: f}
	return &cobra.Command{
		Use:   "token",
		Short: "Print a valid access token of the active account",
		Long: `Print a valid access token of the server's active account on stdout: the stored
one, or a new one when it expires within the refresh margin (60 s, or half
the token's lifetime if that is shorter). Parallel runs share one refresh.

When DYOR_TOKEN is set, its value is printed instead, as long as its "exp"
claim is in the future (exit 4 otherwise).

This is the only command that prints a token, so it has no JSON output
(-o json is a usage error). When the session has expired or was revoked,
token exits 4 and prints nothing on stdout.`,
		Example: `  curl -H "Authorization: Bearer $(dyorctl token)" "$SERVER/api/v1/..."
  TOKEN=$(dyorctl token) || exit`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.JSON() {
				return usageErrorf("dyorctl token prints the bare token and has no JSON output (JSON never carries a token); drop -o json")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return tokenRun(cmd.Context(), opts)
		},
	}
}

func tokenRun(ctx context.Context, opts *TokenOptions) error {
	f := opts.Factory
	if env := f.Getenv("DYOR_TOKEN"); env != "" {
		if _, err := checkEnvToken(env, f.Now()); err != nil {
			return err
		}
		_, err := fmt.Fprintln(f.IO.Out, env)
		return err
	}

	_, c, current, err := f.ActiveSession(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := f.NetContext(ctx)
	defer cancel()
	token, err := c.AccessToken(ctx)
	if err != nil {
		return forAccount(current.Username, err)
	}
	_, err = fmt.Fprintln(f.IO.Out, token)
	return err
}

// checkEnvToken reads the expiry of the access token in DYOR_TOKEN (its
// "exp" claim, unverified) and fails with exit 4 once it has passed.
func checkEnvToken(token string, now time.Time) (time.Time, error) {
	t, err := client.ParseTokens(token, token)
	if err != nil {
		return time.Time{}, usageErrorf("DYOR_TOKEN does not hold a readable access token (%v)", err)
	}
	if !t.AccessExpiresAt.After(now) {
		return t.AccessExpiresAt, exitErrorf(exitAuth, "the access token in DYOR_TOKEN expired at %s: set a new one, or unset DYOR_TOKEN to use the stored session", rfc3339(t.AccessExpiresAt))
	}
	return t.AccessExpiresAt, nil
}
