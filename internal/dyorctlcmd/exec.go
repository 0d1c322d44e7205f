package dyorctlcmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

// Exit codes of exec when the command cannot be run, as env(1), nohup(1)
// and the shells use them.
const (
	exitCannotRun = 126 // found but could not be started
	exitNotFound  = 127 // no such command
)

// ExecOptions are the inputs of dyorctl exec.
type ExecOptions struct {
	Factory *Factory

	MinTTL  time.Duration // 0: the refresh margin
	Command []string      // the command and its arguments
}

// NewCmdExec returns dyorctl exec. runF, when not nil, replaces execRun.
func NewCmdExec(f *Factory, runF func(context.Context, *ExecOptions) error) *cobra.Command {
	opts := &ExecOptions{Factory: f}
	var minTTL string
	cmd := &cobra.Command{
		Use:   "exec [--min-ttl DURATION] [flags] -- COMMAND [ARGS...]",
		Short: "Run a command with a valid access token in its environment",
		Long: `Run COMMAND with a valid access token of the active account in DYOR_TOKEN and
the selected server's URL in DYOR_SERVER, so that the token appears on no
command line (other users can read those) and in no shell history. The token
is refreshed first when it expires within the refresh margin, or, with
--min-ttl D, when it would not stay valid for D: give the time the command
needs. When the server's access tokens live no longer than D, exec fails at
once (exit 1) without running the command.

stdin, stdout and stderr are the command's; the signals dyorctl receives
(TERM, HUP, USR1, USR2, and INT and QUIT when no terminal sends them to the
command itself) are passed on to it. exec exits with the command's exit
code (128+N when it was killed by signal N), 127 when the command is not
found and 126 when it cannot be started; before the command runs, with the
codes of "dyorctl token" (4: log in again). DYOR_PASSWORD is removed from
the command's environment. dyorctl exec itself prints nothing, so -o json is
a usage error.

In the command, read the token from the environment, not into an argument:
"curl -H @-" reads headers from stdin, and printf is a shell built-in.`,
		Example: `  dyorctl exec -- ./deploy.sh
  dyorctl exec --min-ttl 10m -- python3 nightly_job.py
  dyorctl exec -- sh -c 'printf "Authorization: Bearer %s\n" "$DYOR_TOKEN" | curl -sf -H @- "$DYOR_SERVER/api/v1/orders"'`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErrorf("dyorctl exec needs a command to run: dyorctl exec [--min-ttl DURATION] -- COMMAND [ARGS...]")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.JSON() {
				return usageErrorf("dyorctl exec passes the command's output through and has no JSON output; run it without -o")
			}
			var err error
			if opts.MinTTL, err = parseMinTTL(minTTL); err != nil {
				return err
			}
			opts.Command = args
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return execRun(cmd.Context(), opts)
		},
	}
	// Everything after the command is the command's, flags included.
	cmd.Flags().SetInterspersed(false)
	addMinTTLFlag(cmd, &minTTL)
	return cmd
}

func execRun(ctx context.Context, opts *ExecOptions) error {
	f := opts.Factory
	server, err := f.Server()
	if err != nil {
		return err
	}
	name := opts.Command[0]
	path, err := exec.LookPath(name)
	if err != nil {
		code := exitNotFound
		if errors.Is(err, os.ErrPermission) {
			code = exitCannotRun
		}
		return exitErrorf(code, "cannot run %q: %s", clip(name), causeOf(err))
	}
	token, err := accessToken(ctx, f, opts.MinTTL)
	if err != nil {
		return err
	}

	cmd := exec.Command(path, opts.Command[1:]...)
	cmd.Args[0] = name
	cmd.Env = childEnv(f.Environ(), token, server)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = f.IO.In, f.IO.Out, f.IO.ErrOut

	// Signals are for the command now: dyorctl waits for it to end, and
	// the cancellation of ctx they cause is not acted on. Caught here, they
	// cannot end dyorctl while the command runs, however many come.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, execSignals...)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		return exitErrorf(exitCannotRun, "cannot run %q: %s", clip(name), causeOf(err))
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case s := <-sigs:
			if forwarded(s, f.IO.StdinTTY) {
				_ = cmd.Process.Signal(s)
			}
		case err := <-done:
			return childExit(err)
		}
	}
}

// childEnv is env with DYOR_TOKEN and DYOR_SERVER set and DYOR_PASSWORD
// removed.
func childEnv(env []string, token, server string) []string {
	out := make([]string, 0, len(env)+2)
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "DYOR_TOKEN", "DYOR_SERVER", "DYOR_PASSWORD":
			continue
		}
		out = append(out, kv)
	}
	return append(out, "DYOR_TOKEN="+token, "DYOR_SERVER="+server)
}

// childExit turns the command's end into dyorctl's: its exit code, or
// 128+N for signal N, with no message of dyorctl's.
func childExit(err error) error {
	if err == nil {
		return nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code := ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = 128 + int(ws.Signal())
		}
		return &ExitError{Code: code, Reported: true}
	}
	return fmt.Errorf("running the command: %w", err)
}

// causeOf is the innermost message of err, without the path it names.
func causeOf(err error) string {
	var ee *exec.Error
	if errors.As(err, &ee) {
		err = ee.Err
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return err.Error()
}
