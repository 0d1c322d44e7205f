package dyorctlcmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/dyor-exchange/dyorctl/internal/buildinfo"
	"github.com/dyor-exchange/dyorctl/internal/clihelp"
	"github.com/dyor-exchange/dyorctl/internal/safetext"
)

// Main runs dyorctl with args (without the program name) and returns the
// exit code. Ctrl-C and SIGTERM cancel the command (exit 2); a second one
// ends the process the default way, should anything not heed the first.
func Main(args []string, ios *IOStreams, getenv func(string) string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	context.AfterFunc(ctx, stop)
	f := NewFactory(ios, getenv)
	f.LookupEnv = os.LookupEnv // getenv is the process's: see checkEmptyEnv
	return run(ctx, f, args)
}

// run executes one command line with f and reports its error: the
// sentence on stderr, and with -o json the error object on stdout.
func run(ctx context.Context, f *Factory, args []string) int {
	defer f.close()
	root := NewCmdRoot(f)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	e := classify(err, f.errContext())
	if e.Code == exitUsage {
		e.Message = hideFlagValues(cmd, e.Message)
	}
	// The sentence may quote a server (its message, a certificate's name).
	// exec passes on its command's exit code with no sentence.
	if e.Message != "" {
		fmt.Fprintln(f.IO.ErrOut, safetext.String(e.Message))
	}
	if f.JSON() && !e.Reported {
		_ = f.PrintJSON(newJSONError(e))
	}
	return e.Code
}

const rootLong = `dyorctl logs in to the DYOR account API and keeps the tokens for scripts and
people: register an account, log in, refresh, log out, print a valid access
token for curl, call the server with it (dyorctl api), hand it to another
program in its environment (dyorctl exec), and an interactive app (dyorctl
tui, or dyorctl alone in a terminal).

Tokens are stored in <config dir>/credentials.json (mode 0600, directory
0700), one entry per server and username, with one active account per server.
The config dir is --config-dir, else $DYOR_CONFIG_DIR, else dyorctl in the
user config directory (~/.config/dyorctl on Linux). Passwords are never
stored, and never taken as a flag value.

Results go to stdout and messages to stderr: status, token and version print
on stdout; register, login, refresh, logout and switch change something and
report it on stderr; api prints the server's answer and exec's command has
the standard streams. -o json prints exactly one JSON object on stdout (an
{"error": {...}} object on failure) and never a token (token, api and exec
have none). Only "dyorctl token" prints a token; exec hands one to its
command in the environment.

Environment:
  DYOR_SERVER      server URL when --server is not given
  DYOR_CONFIG_DIR  config dir when --config-dir is not given
  DYOR_PASSWORD    password for register and login (beats the prompt)
  DYOR_TOKEN       access token used by token, api and exec instead of the stored one
  DYOR_CA_CERT     PEM file of a CA to trust when --ca-cert is not given
  HTTPS_PROXY, HTTP_PROXY, NO_PROXY
                   the proxy for https and http servers, and the hosts that
                   bypass it, as Go's net/http reads them (also in lower case;
                   localhost and loopback addresses never use a proxy)

Exit codes:
  0  success
  1  other failure (for example a corrupt credentials file)
  2  usage error (unknown command or flag, bad flag value, missing argument or
     password, input breaking the username/password rules), or cancelled
  4  authentication required: not logged in, or the session expired or was
     revoked (log in again)
  5  credentials rejected: unknown account, wrong password, account locked,
     username taken
  6  server unreachable, timed out, or answered 5xx
  dyorctl exec exits with its command's code (126, 127: it could not run)`

const rootExample = `  # log in from a script, then call the API with a fresh token
  printf '%s\n' "$PASSWORD" | dyorctl login -u john@API --password-stdin
  curl -H "Authorization: Bearer $(dyorctl token)" https://www.dyorbackend.tk/...

  # call the server, or run a program with a token that lives 10 minutes
  dyorctl api /api/v1/orders
  dyorctl exec --min-ttl 10m -- ./nightly-job.sh

  # against a local mock
  dyorctl --server http://127.0.0.1:8080 status -o json

  # a server behind a private CA, through the proxy in HTTPS_PROXY
  dyorctl --server https://dyor.internal --ca-cert corp-ca.pem status

  # try it all without a server
  dyorctl demo`

// NewCmdRoot returns the dyorctl command tree.
func NewCmdRoot(f *Factory) *cobra.Command {
	g := &f.global
	root := &cobra.Command{
		Use:           "dyorctl",
		Short:         "Log in to the DYOR account API from the terminal and from scripts",
		Long:          rootLong,
		Example:       rootExample,
		SilenceErrors: true, // run prints errors, in one place
		SilenceUsage:  true,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return nil
			}
			msg := fmt.Sprintf("unknown command %q for \"dyorctl\"", args[0])
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				msg += fmt.Sprintf("; did you mean %q?", s[0])
			}
			return usageErrorf("%s (see \"dyorctl --help\")", msg)
		},
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if err := f.checkEmptyEnv(cmd.Root().PersistentFlags()); err != nil {
				return err
			}
			return g.resolve(cmd.Root().PersistentFlags(), f.Getenv)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			// A bare dyorctl opens the app in a terminal, and is help elsewhere.
			if f.IO.StdinTTY && f.IO.StdoutTTY {
				return tuiRun(cmd.Context(), f)
			}
			return cmd.Help()
		},
	}
	root.SuggestionsMinimumDistance = 2
	root.SetIn(f.IO.In)
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usageErrorf("%s (see \"%s --help\")", flagErrorText(err), cmd.CommandPath())
	})

	pf := root.PersistentFlags()
	pf.StringVar(&g.server, "server", defaultServer, "server `URL` (env DYOR_SERVER)")
	pf.StringVar(&g.configDir, "config-dir", "", "`DIR` holding credentials.json (env DYOR_CONFIG_DIR; default <user config dir>/dyorctl)")
	pf.StringVarP(&g.output, "output", "o", "text", "output `FORMAT`: text or json")
	pf.DurationVar(&g.timeout, "timeout", defaultTimeout, "`DURATION` allowed for the command's network work (for each request in the app)")
	pf.StringVar(&g.caCert, "ca-cert", "", "PEM `FILE` of a CA to trust besides the system's, for a server behind a private CA (env DYOR_CA_CERT)")
	pf.BoolVarP(&g.verbose, "verbose", "v", false, "trace HTTP requests on stderr: method, URL, status, duration; never a token or password (not in the app)")
	_ = root.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))

	root.AddCommand(
		NewCmdRegister(f, nil),
		NewCmdLogin(f, nil),
		NewCmdRefresh(f, nil),
		NewCmdLogout(f, nil),
		NewCmdStatus(f, nil),
		NewCmdToken(f, nil),
		NewCmdAPI(f, nil),
		NewCmdExec(f, nil),
		NewCmdSwitch(f, nil),
		NewCmdTUI(f, nil),
		NewCmdDemo(f, nil),
		NewCmdVersion(f),
	)
	// Add cobra's completion command now, so that its argument errors are
	// marked as usage errors with the rest.
	root.InitDefaultCompletionCmd()
	clihelp.AddCompletionExamples(root)
	clihelp.AddVersionFlag(root, buildinfo.String("dyorctl"))
	for _, c := range root.Commands() {
		if c.Name() == "completion" && c.Run == nil && c.RunE == nil {
			// Runnable, so that an unknown shell fails its Args check (a
			// command without Run prints its help for any argument).
			c.RunE = func(cmd *cobra.Command, args []string) error { return cmd.Help() }
		}
	}
	markArgErrors(root)
	return root
}

// resolve applies the environment to flags not given, and checks values.
func (g *globalOptions) resolve(flags *pflag.FlagSet, getenv func(string) string) error {
	if !flags.Changed("server") {
		if v := getenv("DYOR_SERVER"); v != "" {
			g.server = v
		}
	}
	if !flags.Changed("config-dir") {
		g.configDir = getenv("DYOR_CONFIG_DIR")
	}
	switch g.output {
	case "text", "json":
	default:
		// The value is not echoed: it may be a secret typed in the wrong place.
		g.output = "text"
		return usageErrorf("-o takes text or json")
	}
	if g.timeout <= 0 {
		return usageErrorf("--timeout must be a positive duration, such as 30s")
	}
	return g.resolveCA(flags, getenv)
}

// hideFlagValues replaces, in a usage error's sentence, every value given
// to a flag of cmd by the flag's placeholder (USERNAME, URL, FORMAT), so
// that no usage error quotes one: a password pasted after the wrong flag
// must not come back on the screen or in a CI log, and a hint that shows
// the command to run still reads as one. Values shorter than 4 bytes are
// too short to be secrets and would match ordinary words, and a flag's
// default is no secret.
func hideFlagValues(cmd *cobra.Command, msg string) string {
	if cmd == nil {
		return msg
	}
	hide := func(fl *pflag.Flag) {
		if v := fl.Value.String(); len(v) >= 4 && v != fl.DefValue && fl.Value.Type() != "bool" {
			placeholder, _ := pflag.UnquoteUsage(fl)
			if placeholder == "" || placeholder == "string" {
				placeholder = "VALUE"
			}
			msg = strings.ReplaceAll(msg, v, placeholder)
		}
	}
	cmd.Flags().Visit(hide)
	cmd.InheritedFlags().Visit(hide)
	return msg
}

// markArgErrors makes the argument errors of every command usage errors
// (exit 2), as the flag errors are through SetFlagErrorFunc.
func markArgErrors(cmd *cobra.Command) {
	if args := cmd.Args; args != nil {
		cmd.Args = func(c *cobra.Command, a []string) error {
			err := args(c, a)
			var ue *usageError
			if err != nil && !errors.As(err, &ue) {
				return usageErrorf("%s (see \"%s --help\")", strings.TrimSpace(err.Error()), c.CommandPath())
			}
			return err
		}
	}
	for _, sub := range cmd.Commands() {
		markArgErrors(sub)
	}
}

// noArgs is cobra.NoArgs in words.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		// The argument is not quoted: it may be a password typed by mistake.
		return usageErrorf("%s takes no arguments, got %d (a password is never an argument: use the prompt, --password-stdin or DYOR_PASSWORD; see \"%s --help\")",
			cmd.CommandPath(), len(args), cmd.CommandPath())
	}
	return nil
}

// flagErrorText is pflag's error without the values it quotes: a password
// given as "-pPASSWORD" or as a flag's value by mistake must not be printed
// back.
func flagErrorText(err error) string {
	msg := err.Error()
	if head, _, ok := strings.Cut(msg, " in -"); ok && strings.HasPrefix(msg, "unknown shorthand flag") {
		return head // unknown shorthand flag: 'p'
	}
	if m := invalidFlagValue.FindStringSubmatch(msg); m != nil {
		return "invalid value for the " + m[1] + " flag"
	}
	return msg
}

// invalidFlagValue matches pflag's `invalid argument "VALUE" for "-x, --name" flag: …`.
var invalidFlagValue = regexp.MustCompile(`^invalid argument ".*" for "(?:-\w, )?(--[\w-]+)" flag`)
