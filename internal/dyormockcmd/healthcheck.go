package dyormockcmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dyor-exchange/dyorctl/mock"
)

type healthcheckOptions struct {
	url     string
	urlFile string
	wait    time.Duration
	timeout time.Duration
}

// healthPollInterval is how often healthcheck --wait tries again.
const healthPollInterval = 5 * time.Millisecond

func newHealthcheckCmd(ctx context.Context, stdout io.Writer, getenv func(string) string) *cobra.Command {
	o := &healthcheckOptions{}
	cmd := &cobra.Command{
		Use:   "healthcheck (--url URL | --url-file FILE) [--wait DURATION]",
		Short: "Exit 0 if a dyormock answers GET /healthz with 200, and print its URL",
		Long: `healthcheck GETs URL/healthz and exits 0 on a 200 answer, printing the base URL
on stdout; otherwise it exits 1 with the reason on stderr. With --url-file it
reads the URL from the file that dyormock --url-file writes.

--wait DURATION keeps trying (reading the file again each time) until the
server answers or the time is up, so a script waits for a dyormock it has
just started with one line:

  export DYOR_SERVER=$(dyormock healthcheck --url-file /tmp/dyormock.url --wait 10s)

If it fails, DYOR_SERVER is empty, and dyorctl refuses an empty DYOR_SERVER
rather than use the default server.

Without --wait it tries once, for container health checks in images without
curl.`,
		Example: `  # wait up to 10 s for a dyormock started in the background, then use it
  dyormock --addr 127.0.0.1:0 --url-file /tmp/dyormock.url &
  export DYOR_SERVER=$(dyormock healthcheck --url-file /tmp/dyormock.url --wait 10s)

  # one try, as a container health check
  dyormock healthcheck --url http://127.0.0.1:8080
  HEALTHCHECK CMD ["/dyormock", "healthcheck", "--url", "http://127.0.0.1:8080"]`,
		Args: noArgs,
		PreRunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("url") && !cmd.Flags().Changed("url-file") {
				if v := getenv("DYORMOCK_URL"); v != "" {
					o.url = v
				}
			}
			switch {
			case o.url == "" && o.urlFile == "":
				return usageError{errors.New("healthcheck needs --url URL or --url-file FILE")}
			case o.url != "" && o.urlFile != "":
				return usageError{errors.New("--url and --url-file cannot be used together")}
			case o.wait < 0 || o.timeout <= 0:
				return usageError{errors.New("--wait must not be negative, and --timeout must be positive")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			url, err := o.check(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintln(stdout, url)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.url, "url", "", "base `URL` of the dyormock to check (env DYORMOCK_URL)")
	f.StringVar(&o.urlFile, "url-file", "", "read the base URL from `FILE`, as written by dyormock --url-file")
	f.DurationVar(&o.wait, "wait", 0, "keep trying for up to `DURATION` (0 = try once)")
	f.DurationVar(&o.timeout, "timeout", 5*time.Second, "`DURATION` allowed for each try")
	return cmd
}

// check tries until the server is healthy or --wait is over, and returns
// the URL that answered.
func (o *healthcheckOptions) check(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, o.wait+o.timeout)
	defer cancel()
	deadline := time.Now().Add(o.wait)
	for {
		url, err := o.try(ctx)
		if err == nil {
			return url, nil
		}
		var ue usageError
		if errors.As(err, &ue) {
			return "", err
		}
		if !time.Now().Before(deadline) {
			if o.wait > 0 {
				return "", fmt.Errorf("unhealthy after %s: %w", o.wait, err)
			}
			return "", fmt.Errorf("unhealthy: %w", err)
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("unhealthy: %w", err)
		case <-time.After(healthPollInterval): // polling with a deadline
		}
	}
}

func (o *healthcheckOptions) try(ctx context.Context) (string, error) {
	url := o.url
	if o.urlFile != "" {
		b, err := os.ReadFile(o.urlFile)
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("no URL in %s yet", o.urlFile)
		}
		if err != nil {
			return "", err
		}
		if url = strings.TrimSpace(string(b)); url == "" {
			return "", fmt.Errorf("no URL in %s yet", o.urlFile)
		}
	}
	url = strings.TrimSuffix(url, "/")
	tctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(tctx, http.MethodGet, url+mock.HealthPath, nil)
	if err != nil || req.URL.Host == "" {
		return "", usageError{fmt.Errorf("%q is not a URL: want http://HOST:PORT", url)}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s answered %s", req.URL, resp.Status)
	}
	return url, nil
}
