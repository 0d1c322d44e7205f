package dyorctlcmd

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/dyor-exchange/dyorctl/client"
	"github.com/dyor-exchange/dyorctl/credstore"
	"github.com/dyor-exchange/dyorctl/internal/safetext"
	"github.com/dyor-exchange/dyorctl/internal/timefmt"
)

// StatusOptions are the inputs of dyorctl status.
type StatusOptions struct {
	Factory *Factory
}

// statusJSON is what status prints with -o json (the shape docs/ and the
// README document; tests pin it).
type statusJSON struct {
	Server   string              `json:"server"`
	Store    string              `json:"store"`
	Source   string              `json:"source"` // "store" or "DYOR_TOKEN"
	Accounts []statusAccountJSON `json:"accounts"`
}

type statusAccountJSON struct {
	Server           string `json:"server"`
	Username         string `json:"username"`
	Active           bool   `json:"active"`
	SessionID        string `json:"session_id"`
	AccessExpiresAt  string `json:"access_expires_at"`
	RefreshExpiresAt string `json:"refresh_expires_at"`
	Valid            bool   `json:"valid"`
	// ClockOffsetSeconds is how far the server's clock is ahead of this
	// machine's (negative: behind), measured at the last login or refresh;
	// 0 when not measured.
	ClockOffsetSeconds float64 `json:"clock_offset_seconds"`
}

// skewWarning is how far the clocks may disagree before status says so.
const skewWarning = client.ClockSkewWarning

// NewCmdStatus returns dyorctl status. runF, when not nil, replaces
// statusRun.
func NewCmdStatus(f *Factory, runF func(context.Context, *StatusOptions) error) *cobra.Command {
	opts := &StatusOptions{Factory: f}
	return &cobra.Command{
		Use:   "status",
		Short: "Show the stored accounts and their sessions (offline)",
		Long: `Show every stored account of every server, the active one of each server
marked, when their access and refresh tokens expire, and where they are
stored. No request is sent: the API has no "who am I" route, and a refresh
would rotate the session.

Expiry is judged on the server's clock: login and refresh measure how far
this machine's clock is from the server's (from the answer's Date header)
and keep the offset with the account. When they disagree by more than 30 s,
status warns on stderr; -o json gives the offset of each account as
clock_offset_seconds (positive: the server's clock is ahead).

status exits 4 when the selected server (--server) has no valid session: no
active account, or its refresh token has expired. With DYOR_TOKEN set, that
token is the source, and status exits 0 while its "exp" is in the future.`,
		Example: `  dyorctl status
  dyorctl status -o json | jq '.accounts[] | select(.active)'
  dyorctl status >/dev/null 2>&1 || dyorctl login -u john@API`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return statusRun(cmd.Context(), opts)
		},
	}
}

func statusRun(ctx context.Context, opts *StatusOptions) error {
	f := opts.Factory
	server, st, accounts, err := f.StoredAccounts()
	if err != nil {
		return err
	}
	now := f.Now()

	// The verdict on the selected server: nil when it has a valid session.
	var verdict error
	source := "store"
	var envExpiry time.Time
	if env := f.Getenv("DYOR_TOKEN"); env != "" {
		source = "DYOR_TOKEN"
		envExpiry, verdict = checkEnvToken(env, now)
	} else {
		verdict = selectedVerdict(accounts, server, now)
	}

	warnSkew(f, accounts, server)
	if f.JSON() {
		out := statusJSON{Server: server, Store: st.Path(), Source: source, Accounts: []statusAccountJSON{}}
		for _, a := range accounts {
			out.Accounts = append(out.Accounts, statusAccountJSON{
				Server:             safetext.String(a.Server),
				Username:           safetext.String(a.Username),
				Active:             a.Active,
				SessionID:          safetext.String(a.Tokens.SessionID),
				AccessExpiresAt:    rfc3339(a.Tokens.AccessExpiresAt),
				RefreshExpiresAt:   rfc3339(a.Tokens.RefreshExpiresAt),
				Valid:              a.Tokens.Refreshable(a.Tokens.ServerNow(now)),
				ClockOffsetSeconds: a.Tokens.ClockOffset.Seconds(),
			})
		}
		if err := f.PrintJSON(out); err != nil {
			return err
		}
		if verdict != nil {
			e := classify(verdict, f.errContext())
			e.Reported = true // the status object is the one JSON object
			return e
		}
		return nil
	}

	printStatus(f.IO.Out, server, st.Path(), accounts, now)
	if source == "DYOR_TOKEN" && verdict == nil {
		fmt.Fprintf(f.IO.Out, "\nUsing the access token in DYOR_TOKEN for %s: it %s.\n", server, expiresIn(envExpiry, now))
	}
	return verdict
}

// selectedVerdict is nil when server has a valid session among accounts,
// else the exit-4 error saying why not.
func selectedVerdict(accounts []credstore.Account, server string, now time.Time) error {
	for _, a := range accounts {
		if a.Server != server || !a.Active {
			continue
		}
		if a.Tokens.Refreshable(a.Tokens.ServerNow(now)) {
			return nil
		}
		return exitErrorf(exitAuth, "session expired: run \"dyorctl login -u %s\"", a.Username)
	}
	return noActiveAccount(accounts, server)
}

// printStatus prints the stored accounts, grouped by server:
//
//	http://127.0.0.1:8080 (selected)
//	  * john@API (active), session 9c0e…
//	      access token:  expires in 14m 32s
//	      refresh token: expires in 6d 23h 59m
func printStatus(w io.Writer, selected, path string, accounts []credstore.Account, now time.Time) {
	if len(accounts) == 0 {
		fmt.Fprintf(w, "No stored accounts (credentials file: %s).\n", path)
		return
	}
	seenSelected := false
	last := ""
	for _, a := range accounts {
		if a.Server != last {
			if last != "" {
				fmt.Fprintln(w)
			}
			last = a.Server
			if a.Server == selected {
				seenSelected = true
				fmt.Fprintf(w, "%s (selected)\n", safetext.String(a.Server))
			} else {
				fmt.Fprintln(w, safetext.String(a.Server))
			}
		}
		mark, active := "-", ""
		if a.Active {
			mark, active = "*", " (active)"
		}
		serverNow := a.Tokens.ServerNow(now)
		// The session id is a claim the server chose: cleaned, so that it
		// cannot move the cursor or forge lines.
		fmt.Fprintf(w, "  %s %s%s, session %s\n", mark, safetext.String(a.Username), active, safetext.String(a.Tokens.SessionID))
		fmt.Fprintf(w, "      access token:  %s\n", expiresIn(a.Tokens.AccessExpiresAt, serverNow))
		refresh := expiresIn(a.Tokens.RefreshExpiresAt, serverNow)
		if !a.Tokens.Refreshable(serverNow) {
			refresh += ": log in again"
		}
		fmt.Fprintf(w, "      refresh token: %s\n", refresh)
		if off := a.Tokens.ClockOffset; off.Abs() > skewWarning {
			fmt.Fprintf(w, "      server clock:  %s\n", describeOffset(off))
		}
	}
	if !seenSelected {
		fmt.Fprintf(w, "\n%s (selected): no stored account\n", selected)
	}
	fmt.Fprintf(w, "\nCredentials file: %s\n", path)
}

// warnSkew warns on stderr when the clock of the selected server's active
// account was off by more than skewWarning.
func warnSkew(f *Factory, accounts []credstore.Account, server string) {
	for _, a := range accounts {
		if a.Server == server && a.Active && a.Tokens.ClockOffset.Abs() > skewWarning {
			f.Messagef("Warning: the server's clock is %s (measured at the last login or refresh); expiry is judged on the server's clock, but check this machine's time.",
				describeOffset(a.Tokens.ClockOffset))
		}
	}
}

// describeOffset says in words how the server's clock stands to ours.
func describeOffset(off time.Duration) string {
	if off > 0 {
		return timefmt.Duration(off) + " ahead of this machine's"
	}
	return timefmt.Duration(-off) + " behind this machine's"
}
