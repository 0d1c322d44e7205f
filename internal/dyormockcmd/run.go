package dyormockcmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/dyor-exchange/dyorctl/internal/buildinfo"
	"github.com/dyor-exchange/dyorctl/internal/clihelp"
	"github.com/dyor-exchange/dyorctl/mock"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// usageError marks an error in the command line or the environment.
type usageError struct{ error }

type serveOptions struct {
	addr            string
	urlFile         string
	accessTTL       time.Duration
	refreshTTL      time.Duration
	refreshGrace    time.Duration
	bcryptCost      int
	secret          string
	issuer          string
	seeds           []string
	noSeed          bool
	lockoutAttempts int
	lockoutDuration time.Duration
	logFormat       string
	logLevel        string
	state           string
	stateInterval   time.Duration
	admin           bool
	loginCache      bool
	maxTenants      int
	tenantIdleTTL   time.Duration

	lifecycle lifecycleOptions // --exit-with-parent, --exit-on-stdin-close
}

// Run is dyormock's main, with its world passed in so tests can run it in
// process. ctx ending (SIGINT, SIGTERM) shuts the server down.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	root := NewRootCmd(ctx, stdout, stderr, getenv)
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	if err == nil {
		return exitOK
	}
	var ue usageError
	if errors.As(err, &ue) {
		// The hint dyorctl gives too.
		fmt.Fprintf(stderr, "dyormock: %v (see \"%s --help\")\n", err, cmd.CommandPath())
		return exitUsage
	}
	fmt.Fprintf(stderr, "dyormock: %v\n", err)
	return exitError
}

// NewRootCmd returns the dyormock command tree: the server as the root
// command, with healthcheck and version. ctx ending shuts the server down.
func NewRootCmd(ctx context.Context, stdout, stderr io.Writer, getenv func(string) string) *cobra.Command {
	o := &serveOptions{}
	cmd := &cobra.Command{
		Use:   "dyormock [flags]",
		Short: "An in-memory DYOR account API server for tests and CI",
		Long: `dyormock serves the DYOR account API (register, login, refresh, logout under
/api/v1/account) from memory, with a control plane under /_mock/ to list and add
accounts, mint and revoke sessions, inject faults, move the clock and read the
request journal. POST /_mock/tenants makes a tenant: an isolated mock of its own
(accounts, sessions, clock, faults, journal, signing secret) served under
/t/{id}, so that parallel test workers can share one dyormock.

When it is ready it writes the URL to --url-file if given (a stale file is
removed at start, and the file on exit), then prints one line on stdout,
  dyormock listening on http://HOST:PORT
Logs go to stderr. SIGINT or SIGTERM shut it down gracefully, as do the death
of the process that started it with --exit-with-parent and the end of stdin
with --exit-on-stdin-close. "dyormock healthcheck --url-file FILE --wait 10s"
waits until it is ready and prints the URL; "dyormock help control-plane"
describes the /_mock/ routes.

Every flag can also be set through DYORMOCK_<FLAG> (upper case, '-' as '_'), for
example DYORMOCK_ACCESS_TTL=1m; DYORMOCK_SEED holds one user:password per line.
A flag beats its variable.`,
		Example: `  # the example account john@API / honeyBunnies, on a free port; wait for it
  dyormock --addr 127.0.0.1:0 --url-file /tmp/dyormock.url &
  export DYOR_SERVER=$(dyormock healthcheck --url-file /tmp/dyormock.url --wait 10s)

  # started by a test suite: it ends when the suite's process dies
  dyormock --addr 127.0.0.1:0 --url-file "$TMP/url" --bcrypt-cost 4 --exit-with-parent

  # fast, short-lived tokens for tests, two accounts of your own
  dyormock --bcrypt-cost 4 --access-ttl 30s --seed alice:password1 --seed bob:password2

  # one container for parallel CI workers: each takes a tenant of its own
  dyormock --addr 0.0.0.0:8080 --max-tenants 64
  curl -s -X POST http://127.0.0.1:8080/_mock/tenants   # answers its id and base_url

  # bcrypt on every login, as a real server pays
  dyormock --login-cache=false

  # keep accounts and tokens across restarts
  dyormock --state /var/lib/dyormock/state.json --secret "$DYORMOCK_SECRET"`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				// Not quoted: a stray word is as likely a secret that lost
				// its flag (--seed alice s3cret) as a mistyped command.
				return usageError{errors.New("unknown command (dyormock takes flags, or one of its commands)")}
			}
			return nil
		},
		SilenceUsage:  true,
		SilenceErrors: true,
		PreRunE: func(cmd *cobra.Command, _ []string) error {
			return applyEnv(cmd.Flags(), getenv)
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return serve(ctx, o, cmd.InOrStdin(), stdout, stderr)
		},
	}
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	f := cmd.Flags()
	f.StringVar(&o.addr, "addr", "127.0.0.1:8080", "listen on `HOST:PORT` (port 0 picks a free one)")
	f.StringVar(&o.urlFile, "url-file", "", "write the server's URL to `FILE` once it is ready (removed on exit)")
	f.DurationVar(&o.accessTTL, "access-ttl", mock.DefaultAccessTTL, "access tokens live for `DURATION`")
	f.DurationVar(&o.refreshTTL, "refresh-ttl", mock.DefaultRefreshTTL, "refresh tokens and sessions live for `DURATION`")
	f.DurationVar(&o.refreshGrace, "refresh-grace", 0, "for `DURATION` after a rotation, answer the previous refresh token with the same pair (0 = strict)")
	f.IntVar(&o.bcryptCost, "bcrypt-cost", 10, "bcrypt cost `N` of password hashes (4 is fast, for tests)")
	f.StringVar(&o.secret, "secret", "", "HS256 signing `SECRET` (default: random per start, so tokens die with the process)")
	f.StringVar(&o.issuer, "issuer", mock.DefaultIssuer, "put `ISSUER` in the iss claim of issued tokens")
	f.StringArrayVar(&o.seeds, "seed", nil, "an account `USER:PASSWORD` to create at start (repeatable; replaces john@API)")
	f.BoolVar(&o.noSeed, "no-seed", false, "start with no account at all")
	f.IntVar(&o.lockoutAttempts, "lockout-threshold", mock.DefaultLockoutAttempts, "`N` consecutive wrong passwords lock an account (0 = never)")
	f.DurationVar(&o.lockoutDuration, "lockout-duration", mock.DefaultLockoutDuration, "a locked account stays locked for `DURATION`")
	f.StringVar(&o.logFormat, "log-format", "text", "log `FORMAT` on stderr: text or json")
	f.StringVar(&o.logLevel, "log-level", "info", "log `LEVEL`: debug (one line per request), info or warn")
	f.StringVar(&o.state, "state", "", "load state from `FILE` at start, and save it there on shutdown and periodically")
	f.DurationVar(&o.stateInterval, "state-interval", 30*time.Second, "save --state every `DURATION` (0 = only on shutdown)")
	f.BoolVar(&o.admin, "admin", true, "serve the /_mock/ control plane")
	f.BoolVar(&o.loginCache, "login-cache", true, "skip bcrypt on a login whose password verified before (false: bcrypt on every login)")
	f.IntVar(&o.maxTenants, "max-tenants", mock.DefaultMaxTenants, "hold at most `N` tenants (POST /_mock/tenants) at once; 0 turns tenants off")
	f.DurationVar(&o.tenantIdleTTL, "tenant-idle-ttl", mock.DefaultTenantIdleTTL, "end a tenant that has had no request for `DURATION` (0 = never)")
	o.lifecycle.bindFlags(f)
	clihelp.AddVersionFlag(cmd, buildinfo.String("dyormock"))

	cmd.AddCommand(newHealthcheckCmd(ctx, stdout, getenv), newVersionCmd(stdout), newControlPlaneTopic())
	cmd.AddCommand(newConformanceCmd(ctx, stdout, getenv))
	// cobra adds the completion command when the program runs; add it now,
	// so that it has examples like every other command.
	cmd.InitDefaultCompletionCmd()
	clihelp.AddCompletionExamples(cmd)
	return cmd
}

// applyEnv sets every flag not given on the command line from its
// DYORMOCK_<FLAG> variable.
func applyEnv(fs *pflag.FlagSet, getenv func(string) string) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed || f.Name == "help" || f.Name == "version" {
			return
		}
		name := "DYORMOCK_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		v := getenv(name)
		if v == "" {
			return
		}
		values := []string{v}
		if f.Value.Type() == "stringArray" {
			values = nil
			for _, line := range strings.Split(v, "\n") {
				if line = strings.TrimSpace(line); line != "" {
					values = append(values, line)
				}
			}
		}
		for _, val := range values {
			if serr := fs.Set(f.Name, val); serr != nil {
				err = usageError{fmt.Errorf("invalid %s: %v", name, serr)}
				return
			}
		}
	})
	return err
}

func (o *serveOptions) mockOptions(logger *slog.Logger) ([]mock.Option, error) {
	if o.noSeed && len(o.seeds) > 0 {
		return nil, usageError{errors.New("--seed and --no-seed cannot be used together")}
	}
	opts := []mock.Option{
		mock.WithAccessTTL(o.accessTTL),
		mock.WithRefreshTTL(o.refreshTTL),
		mock.WithRefreshGrace(o.refreshGrace),
		mock.WithBcryptCost(o.bcryptCost),
		mock.WithIssuer(o.issuer),
		mock.WithLockout(o.lockoutAttempts, o.lockoutDuration),
		mock.WithAdmin(o.admin),
		mock.WithLoginCache(o.loginCache),
		mock.WithMaxTenants(o.maxTenants),
		mock.WithTenantIdleTTL(o.tenantIdleTTL),
		mock.WithLogger(logger),
	}
	if o.secret != "" {
		opts = append(opts, mock.WithSecret([]byte(o.secret)))
	}
	if o.noSeed {
		opts = append(opts, mock.WithNoSeed())
	}
	for _, s := range o.seeds {
		user, pass, ok := strings.Cut(s, ":")
		if !ok {
			// The value is not quoted: it holds a password.
			return nil, usageError{errors.New("--seed: want user:password (the value is not shown: it holds a password)")}
		}
		opts = append(opts, mock.WithSeed(user, pass))
	}
	if o.state != "" {
		opts = append(opts, mock.WithStateFile(o.state, o.stateInterval))
	}
	return opts, nil
}

func newLogger(format, level string, w io.Writer) (*slog.Logger, error) {
	var lvl slog.Level
	switch level {
	case "debug":
		lvl = slog.LevelDebug
	case "info":
		lvl = slog.LevelInfo
	case "warn":
		lvl = slog.LevelWarn
	default:
		return nil, usageError{fmt.Errorf("--log-level %q: want debug, info or warn", level)}
	}
	ho := &slog.HandlerOptions{Level: lvl}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, ho)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, ho)), nil
	}
	return nil, usageError{fmt.Errorf("--log-format %q: want text or json", format)}
}

func serve(ctx context.Context, o *serveOptions, stdin io.Reader, stdout, stderr io.Writer) error {
	logger, err := newLogger(o.logFormat, o.logLevel, stderr)
	if err != nil {
		return err
	}
	opts, err := o.mockOptions(logger)
	if err != nil {
		return err
	}
	// A URL file left by an earlier run that did not exit cleanly names a
	// dead server: remove it before anything else, so that a poller waits
	// for this run's URL instead of reading that one.
	if err := removeStaleURLFile(o.urlFile); err != nil {
		return err
	}
	srv, err := mock.New(opts...)
	if err != nil {
		if errors.Is(err, mock.ErrCorruptState) {
			return withoutPackagePrefix(err)
		}
		// Every other error of New is an option value out of range.
		return usageError{withoutPackagePrefix(err)}
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		srv.Close()
		return fmt.Errorf("listening on %s: %w", o.addr, err)
	}
	srv.Serve(ln)
	if o.urlFile != "" {
		if err := writeURLFile(o.urlFile, srv.URL); err != nil {
			srv.Close()
			return fmt.Errorf("writing --url-file: %w", err)
		}
	}
	// Watch before announcing readiness, so that a parent that dies right
	// after reading the line is seen.
	exit, why := o.lifecycle.watch(ctx, stdin)
	fmt.Fprintln(stdout, readinessLine(srv.URL, o.addr, ln.Addr(), inContainer()))
	logger.Info("ready", "url", srv.URL, "admin", o.admin, "state", o.state, "login_cache", o.loginCache, "max_tenants", o.maxTenants)

	select {
	case <-ctx.Done():
		logger.Info("shutting down")
	case <-exit:
		logger.Info("shutting down", "reason", why())
	}
	// The URL goes first, so that nobody reads it for a closing server.
	removeOwnURLFile(o.urlFile, srv.URL, logger)
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	return nil
}

// withoutPackagePrefix drops the "mock: " that the package puts before its
// errors: dyormock's own prefix says where the message comes from.
func withoutPackagePrefix(err error) error {
	if msg, ok := strings.CutPrefix(err.Error(), "mock: "); ok {
		return prefixless{msg, err}
	}
	return err
}

// prefixless is an error with another message; errors.Is still sees the
// original.
type prefixless struct {
	msg string
	err error
}

func (p prefixless) Error() string { return p.msg }
func (p prefixless) Unwrap() error { return p.err }

func newVersionCmd(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version (as --version does)",
		Example: `  dyormock version
  dyormock --version`,
		Args: noArgs,
		Run: func(*cobra.Command, []string) {
			fmt.Fprintln(stdout, buildinfo.String("dyormock"))
		},
	}
}

func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("%s takes no arguments (%d given)", cmd.CommandPath(), len(args))}
	}
	return nil
}
