package dyormockcmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/dyor-exchange/dyorctl/internal/buildinfo"
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
}

// Run is dyormock's main, with its world passed in so tests can run it in
// process. ctx ending (SIGINT, SIGTERM) shuts the server down.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	root := NewRootCmd(ctx, stdout, stderr, getenv)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "dyormock: %v\n", err)
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintln(stderr, "Run 'dyormock --help' for usage.")
		return exitUsage
	}
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

When it is ready it prints exactly one line on stdout,
  dyormock listening on http://HOST:PORT
and writes the URL to --url-file if given. Logs go to stderr. SIGINT or SIGTERM
shut it down gracefully.

Every flag can also be set through DYORMOCK_<FLAG> (upper case, '-' as '_'), for
example DYORMOCK_ACCESS_TTL=1m; DYORMOCK_SEED holds one user:password per line.
A flag beats its variable.`,
		Example: `  # the example account john@API / honeyBunnies, on a free port
  dyormock --addr 127.0.0.1:0 --url-file /tmp/dyormock.url

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
				return usageError{fmt.Errorf("unknown command %q (dyormock takes flags only)", args[0])}
			}
			return nil
		},
		SilenceUsage:  true,
		SilenceErrors: true,
		PreRunE: func(cmd *cobra.Command, _ []string) error {
			return applyEnv(cmd.Flags(), getenv)
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return serve(ctx, o, stdout, stderr)
		},
	}
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	f := cmd.Flags()
	f.StringVar(&o.addr, "addr", "127.0.0.1:8080", "address to listen on (port 0 picks a free one)")
	f.StringVar(&o.urlFile, "url-file", "", "write the server's URL to this file once it is ready")
	f.DurationVar(&o.accessTTL, "access-ttl", mock.DefaultAccessTTL, "lifetime of access tokens")
	f.DurationVar(&o.refreshTTL, "refresh-ttl", mock.DefaultRefreshTTL, "lifetime of refresh tokens and sessions")
	f.DurationVar(&o.refreshGrace, "refresh-grace", 0, "for this long after a rotation, answer the previous refresh token with the same pair (0 = strict)")
	f.IntVar(&o.bcryptCost, "bcrypt-cost", 10, "bcrypt cost of password hashes (4 is fast, for tests)")
	f.StringVar(&o.secret, "secret", "", "HS256 signing secret (default: random per start, so tokens die with the process)")
	f.StringVar(&o.issuer, "issuer", mock.DefaultIssuer, "iss claim of issued tokens")
	f.StringArrayVar(&o.seeds, "seed", nil, "an account user:password to create at start (repeatable; replaces john@API)")
	f.BoolVar(&o.noSeed, "no-seed", false, "start with no account at all")
	f.IntVar(&o.lockoutAttempts, "lockout-threshold", mock.DefaultLockoutAttempts, "consecutive wrong passwords that lock an account (0 = never)")
	f.DurationVar(&o.lockoutDuration, "lockout-duration", mock.DefaultLockoutDuration, "how long a locked account stays locked")
	f.StringVar(&o.logFormat, "log-format", "text", "log format on stderr: text or json")
	f.StringVar(&o.logLevel, "log-level", "info", "log level: debug (one line per request), info or warn")
	f.StringVar(&o.state, "state", "", "load state from this file at start and save it on shutdown and periodically")
	f.DurationVar(&o.stateInterval, "state-interval", 30*time.Second, "how often to save --state (0 = only on shutdown)")
	f.BoolVar(&o.admin, "admin", true, "serve the /_mock/ control plane")
	f.BoolVar(&o.loginCache, "login-cache", true, "skip bcrypt on a login whose password verified before (false: bcrypt on every login)")
	f.IntVar(&o.maxTenants, "max-tenants", mock.DefaultMaxTenants, "most tenants (POST /_mock/tenants) held at once; 0 turns tenants off")
	f.DurationVar(&o.tenantIdleTTL, "tenant-idle-ttl", mock.DefaultTenantIdleTTL, "end a tenant that has had no request for this long (0 = never)")

	cmd.AddCommand(newHealthcheckCmd(ctx, stdout, getenv), newVersionCmd(stdout))
	return cmd
}

// applyEnv sets every flag not given on the command line from its
// DYORMOCK_<FLAG> variable.
func applyEnv(fs *pflag.FlagSet, getenv func(string) string) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed || f.Name == "help" {
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

func serve(ctx context.Context, o *serveOptions, stdout, stderr io.Writer) error {
	logger, err := newLogger(o.logFormat, o.logLevel, stderr)
	if err != nil {
		return err
	}
	opts, err := o.mockOptions(logger)
	if err != nil {
		return err
	}
	srv, err := mock.New(opts...)
	if err != nil {
		if errors.Is(err, mock.ErrCorruptState) {
			return err
		}
		// Every other error of New is an option value out of range.
		return usageError{err}
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
	fmt.Fprintf(stdout, "dyormock listening on %s\n", srv.URL)
	logger.Info("ready", "url", srv.URL, "admin", o.admin, "state", o.state, "login_cache", o.loginCache, "max_tenants", o.maxTenants)

	<-ctx.Done()
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	return nil
}

// writeURLFile writes url atomically, so a CI job polling for the file
// never reads half of it.
func writeURLFile(path, url string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".dyormock-url-*")
	if err != nil {
		return err
	}
	if _, err := tmp.WriteString(url + "\n"); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func newHealthcheckCmd(ctx context.Context, stdout io.Writer, getenv func(string) string) *cobra.Command {
	var url string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "healthcheck --url BASE",
		Short: "Exit 0 if the dyormock at BASE answers GET /healthz with 200",
		Long: `healthcheck GETs BASE/healthz and exits 0 only on a 200 answer, 1 otherwise.
It is meant for container health checks in images without curl.`,
		Example: `  dyormock healthcheck --url http://127.0.0.1:8080
  HEALTHCHECK CMD ["/dyormock", "healthcheck", "--url", "http://127.0.0.1:8080"]`,
		Args: noArgs,
		PreRunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("url") {
				if v := getenv("DYORMOCK_URL"); v != "" {
					url = v
				}
			}
			if url == "" {
				return usageError{errors.New("--url is required")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			cctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			req, err := http.NewRequestWithContext(cctx, http.MethodGet, strings.TrimSuffix(url, "/")+mock.HealthPath, nil)
			if err != nil {
				return usageError{fmt.Errorf("--url %q: %v", url, err)}
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return fmt.Errorf("unhealthy: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("unhealthy: %s answered %s", req.URL, resp.Status)
			}
			fmt.Fprintln(stdout, "healthy")
			return nil
		},
	}
	cmd.Flags().StringVar(&url, "url", "", "base URL of the dyormock to check (env DYORMOCK_URL)")
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Second, "give up after this long")
	return cmd
}

func newVersionCmd(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  noArgs,
		Run: func(*cobra.Command, []string) {
			fmt.Fprintln(stdout, buildinfo.String("dyormock"))
		},
	}
}

func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("%s takes no arguments, got %q", cmd.CommandPath(), args[0])}
	}
	return nil
}
