package dyorctlcmd

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dyor-exchange/dyorctl/client"
	"github.com/dyor-exchange/dyorctl/internal/timefmt"
)

// TokenOptions are the inputs of dyorctl token.
type TokenOptions struct {
	Factory *Factory

	// MinTTL is how long the printed token must stay valid at least; 0
	// means the refresh margin.
	MinTTL time.Duration
}

// NewCmdToken returns dyorctl token. runF, when not nil, replaces tokenRun.
func NewCmdToken(f *Factory, runF func(context.Context, *TokenOptions) error) *cobra.Command {
	opts := &TokenOptions{Factory: f}
	var minTTL string
	cmd := &cobra.Command{
		Use:   "token [--min-ttl DURATION]",
		Short: "Print a valid access token of the active account",
		Long: `Print a valid access token of the server's active account on stdout: the stored
one, or a new one when it expires within the refresh margin (60 s, or half
the token's lifetime if that is shorter). Parallel runs share one refresh.

--min-ttl D promises a token that stays valid for at least D: the stored one
if it lives that long, else a new one. When the server's access tokens live
no longer than D, token fails at once (exit 1) instead of refreshing in vain.
Expiry is judged on the server's clock (see "dyorctl status").

When DYOR_TOKEN is set, its value is printed instead, as long as its "exp"
claim is in the future (exit 4 otherwise) and, with --min-ttl, at least D
away.

This is the only command that prints a token, so it has no JSON output
(-o json is a usage error). When the session has expired or was revoked,
token exits 4 and prints nothing on stdout. To hand a token to another
program without it showing on any command line, see "dyorctl exec".`,
		Example: `  curl -H "Authorization: Bearer $(dyorctl token)" "$SERVER/api/v1/..."
  TOKEN=$(dyorctl token --min-ttl 10m) || exit   # a job that needs 10 minutes`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.JSON() {
				return usageErrorf("dyorctl token prints the bare token and has no JSON output (JSON never carries a token); run it without -o")
			}
			var err error
			if opts.MinTTL, err = parseMinTTL(minTTL); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return tokenRun(cmd.Context(), opts)
		},
	}
	addMinTTLFlag(cmd, &minTTL)
	return cmd
}

// addMinTTLFlag adds --min-ttl as text, so that a bad value gets a
// sentence of its own (parseMinTTL) rather than pflag's.
func addMinTTLFlag(cmd *cobra.Command, value *string) {
	cmd.Flags().StringVar(value, "min-ttl", "", "the access token must stay valid for at least `DURATION` (such as 90s or 10m; default: the refresh margin)")
}

// parseMinTTL reads a --min-ttl value; "" is 0 (the refresh margin).
func parseMinTTL(s string) (time.Duration, error) {
	if strings.TrimSpace(s) == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || d <= 0 {
		return 0, usageErrorf("--min-ttl takes a positive duration: a number with a unit, such as 90s or 10m")
	}
	return d, nil
}

func tokenRun(ctx context.Context, opts *TokenOptions) error {
	f := opts.Factory
	token, err := accessToken(ctx, f, opts.MinTTL)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(f.IO.Out, token)
	return err
}

// accessToken returns DYOR_TOKEN, or a valid access token of the selected
// server's active account that stays valid for at least minTTL on the
// server's clock (0: for more than the refresh margin), refreshing first
// when needed.
func accessToken(ctx context.Context, f *Factory, minTTL time.Duration) (string, error) {
	if env := f.Getenv("DYOR_TOKEN"); env != "" {
		exp, err := checkEnvToken(env, f.Now())
		if err != nil {
			return "", err
		}
		if left := exp.Sub(f.Now()); minTTL > 0 && left < minTTL {
			return "", exitErrorf(exitAuth, "the access token in DYOR_TOKEN expires in %s, sooner than --min-ttl %s: set a new one, or unset DYOR_TOKEN to use the stored session",
				timefmt.Duration(left), shortDuration(minTTL))
		}
		return env, nil
	}

	var copts []client.Option
	if minTTL > 0 {
		copts = append(copts, client.WithRefreshMargin(minTTL))
	}
	_, c, current, err := f.ActiveSession(ctx, copts...)
	if err != nil {
		return "", err
	}
	// A token never lives longer than the server issues them for: say so
	// now rather than refresh in vain.
	if err := checkLifetime(current, minTTL); err != nil {
		return "", err
	}
	ctx, cancel := f.NetContext(ctx)
	defer cancel()
	token, err := c.AccessToken(ctx)
	if err != nil {
		return "", forAccount(current.Username, err)
	}
	if minTTL > 0 {
		t, err := c.Tokens(ctx)
		if err != nil {
			return "", forAccount(current.Username, err)
		}
		if err := checkLifetime(t, minTTL); err != nil {
			return "", err
		}
		if left := t.AccessExpiresAt.Sub(t.ServerNow(f.Now())); t.Access != token || left < minTTL {
			return "", exitErrorf(exitError, "the new access token expires in %s, sooner than --min-ttl %s: check the server's clock",
				timefmt.Duration(left), shortDuration(minTTL))
		}
	}
	return token, nil
}

// checkLifetime fails when t's access token, and so the server's, lives
// shorter than minTTL from issue to expiry.
func checkLifetime(t client.Tokens, minTTL time.Duration) error {
	if minTTL <= 0 || t.AccessIssuedAt.IsZero() {
		return nil
	}
	// Equal is too short as well: some of a new token's life is spent on
	// the way.
	if life := t.AccessExpiresAt.Sub(t.AccessIssuedAt); life <= minTTL {
		return exitErrorf(exitError, "the server's access tokens live %s, so none stays valid for --min-ttl %s: ask for less",
			timefmt.Duration(life), shortDuration(minTTL))
	}
	return nil
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
