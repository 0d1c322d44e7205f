package dyormockcmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/dyor-exchange/dyorctl/conformance"
)

type conformanceOptions struct {
	url            string
	output         string
	run            string
	rate           float64
	maxRequests    int
	lockout        int
	prefix         string
	noControlPlane bool
	timeout        time.Duration
	list           bool
}

func newConformanceCmd(ctx context.Context, stdout io.Writer, getenv func(string) string) *cobra.Command {
	o := &conformanceOptions{}
	cmd := &cobra.Command{
		Use:   "conformance --url URL",
		Short: "Check that the server at URL keeps the account API's contract",
		Long: `conformance runs the contract's conformance suite against the server at URL
(dyormock, or the real backend) over HTTP and prints one line per case:
  PASS name
  FAIL name: want ..., got ...
  SKIP name: why
and a summary. It exits 0 when no case failed, 1 when one did (or the server
does not answer), 2 on a usage error.

Every answer is also checked against the OpenAPI document (api/openapi.yaml).
The suite only uses accounts it registers itself, named with a random prefix
(conf-<random>-...), locks only those, sends at most --max-requests requests at
no more than --rate a second, logs out every session it created when it ends,
and never prints a password or a token. Cases that need dyormock's /_mock/
control plane (expiry, the end of a lockout, sweeping) run only when the
server has it, and move its clock forward; elsewhere they are skipped.
See docs/conformance.md.`,
		Example: `  # against a dyormock of your own
  dyormock --addr 127.0.0.1:0 --url-file /tmp/dyormock.url --bcrypt-cost 4 &
  dyormock conformance --url "$(cat /tmp/dyormock.url)" --rate 0

  # against a staging backend, for the CI's test report
  dyormock conformance --url https://staging.example -o junit > conformance.xml

  # only the rotation cases; the list of cases
  dyormock conformance --url http://127.0.0.1:8080 --run '^rotation/'
  dyormock conformance --list`,
		Args: noArgs,
		PreRunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("url") {
				if v := getenv("DYORMOCK_URL"); v != "" {
					o.url = v
				}
			}
			return o.check()
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.list {
				return listCases(stdout)
			}
			return o.execute(ctx, stdout)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.url, "url", "", "check the server at base `URL` (env DYORMOCK_URL)")
	f.StringVarP(&o.output, "output", "o", "text", "print the report as `FORMAT`: text (a line per case), json or junit (JUnit XML)")
	f.StringVar(&o.run, "run", "", "run only the cases whose name matches `REGEX`")
	f.Float64Var(&o.rate, "rate", conformance.DefaultRate, "send at most `N` requests a second (0 = no limit: for a local dyormock only)")
	f.IntVar(&o.maxRequests, "max-requests", conformance.DefaultMaxRequests, "send at most `N` requests in the run, the final logouts aside")
	f.IntVar(&o.lockout, "lockout-threshold", conformance.DefaultLockoutThreshold, "the server locks an account after `N` wrong passwords")
	f.StringVar(&o.prefix, "prefix", "", "start every username the suite registers with `PREFIX` (default conf-<random>-)")
	f.BoolVar(&o.noControlPlane, "no-control-plane", false, "never use /_mock/, even if the server has it (its cases are skipped)")
	f.DurationVar(&o.timeout, "timeout", conformance.DefaultTimeout, "give up on a request after `DURATION`")
	f.BoolVar(&o.list, "list", false, "list the cases (name, what they need, what they check) and exit")
	return cmd
}

func (o *conformanceOptions) check() error {
	switch o.output {
	case "text", "json", "junit":
	default:
		return usageError{fmt.Errorf("-o %q: want text, json or junit", o.output)}
	}
	re, err := regexp.Compile(o.run)
	if err != nil {
		return usageError{fmt.Errorf("--run: %v", err)}
	}
	if !slices.ContainsFunc(conformance.Cases(), func(c conformance.CaseInfo) bool { return re.MatchString(c.Name) }) {
		return usageError{fmt.Errorf("--run %q matches no case (see --list)", o.run)}
	}
	if o.list {
		return nil
	}
	if o.url == "" {
		return usageError{errors.New("--url is required")}
	}
	if err := o.target().Validate(); err != nil {
		return usageError{err}
	}
	if o.rate < 0 || o.maxRequests <= 0 || o.lockout <= 0 || o.timeout <= 0 {
		return usageError{errors.New("--rate must be at least 0, and --max-requests, --lockout-threshold and --timeout positive")}
	}
	return nil
}

func (o *conformanceOptions) target() conformance.Target {
	t := conformance.Target{
		URL:              o.url,
		Client:           &http.Client{Timeout: o.timeout},
		Rate:             o.rate,
		MaxRequests:      o.maxRequests,
		LockoutThreshold: o.lockout,
		Prefix:           o.prefix,
		NoControlPlane:   o.noControlPlane,
	}
	if o.rate == 0 {
		t.Rate = -1 // Target's "no bound"
	}
	return t
}

func (o *conformanceOptions) execute(ctx context.Context, stdout io.Writer) error {
	opts := conformance.Options{}
	if o.run != "" {
		opts.Run = regexp.MustCompile(o.run) // checked in PreRunE
	}
	if o.output == "text" {
		opts.OnResult = func(r conformance.Result) { fmt.Fprintln(stdout, r.Line()) }
	}
	rep, err := conformance.Check(ctx, o.target(), opts)
	if err != nil {
		return err
	}
	switch o.output {
	case "text":
		fmt.Fprintln(stdout, rep.Summary())
	case "json":
		err = rep.WriteJSON(stdout)
	case "junit":
		err = rep.WriteJUnit(stdout)
	}
	if err != nil {
		return err
	}
	if rep.Failed > 0 {
		return fmt.Errorf("%d of %d cases failed", rep.Failed, len(rep.Results))
	}
	if ctx.Err() != nil {
		return fmt.Errorf("stopped after %d cases: %v", len(rep.Results), ctx.Err())
	}
	return nil
}

func listCases(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CASE\tNEEDS\tCHECKS")
	for _, c := range conformance.Cases() {
		needs := c.Needs
		if needs == "" {
			needs = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Name, needs, c.Checks)
	}
	return tw.Flush()
}
