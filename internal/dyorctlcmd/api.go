package dyorctlcmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dyor-exchange/dyorctl/api"
	"github.com/dyor-exchange/dyorctl/client"
	"github.com/dyor-exchange/dyorctl/internal/safetext"
)

// maxAPIBody bounds a request body read from --input and an answer read
// for printing.
const maxAPIBody = 16 << 20

// APIOptions are the inputs of dyorctl api.
type APIOptions struct {
	Factory *Factory

	Path    string
	Method  string   // -X; "" means GET, or POST with a body
	Data    string   // -d
	HasData bool     // -d was given (an empty body is a body)
	Input   string   // --input FILE, or "-" for stdin
	Headers []string // -H "Name: value", as given
	Include bool     // -i
}

// NewCmdAPI returns dyorctl api. runF, when not nil, replaces apiRun.
func NewCmdAPI(f *Factory, runF func(context.Context, *APIOptions) error) *cobra.Command {
	opts := &APIOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "api PATH [-X METHOD] [-d DATA | --input FILE] [-H 'Name: value']... [-i]",
		Short: "Send an authenticated request to the server and print the answer",
		Long: fmt.Sprintf(`Send a request to PATH on the selected server (--server) with the active
account's access token, and print the answer's body on stdout as it came
(indented when stdout is a terminal and the body is JSON). PATH is a path on
the server, such as /api/v1/orders?limit=5; a URL of another host is refused,
so the token never leaves its server.

The method is GET, or POST when a body is given (-d DATA, or --input FILE,
"-" for stdin, read whole before sending); -X sets another. A body is sent as
application/json unless -H sets Content-Type. -H adds a header (repeatable);
the Authorization header is dyorctl's. -i prints the status line and the
answer's headers before the body.

The access token is refreshed first when it expires within the refresh
margin. When the server answers 401 with code %d (token expired: the
clocks disagree, or it expired in flight), the session is refreshed once
through the credentials file, as "dyorctl refresh" does, and the request is
sent once more with the same body. No other failure is ever followed by a
resend. The account routes (register, login, refresh, logout) are refused:
use their commands, which keep the credentials file right and never print a
token.

Exit codes: 0 for a 2xx answer; 4 when there is no session, the server no
longer accepts it, or it still refuses the token after the one refresh; 6
when the server cannot be reached, times out or answers 5xx; 1 for any other
answer (the body is printed all the same, and the error's message goes to
stderr). -v traces the requests on stderr, the token redacted.`, api.CodeTokenExpired),
		Example: `  dyorctl api /api/v1/orders
  dyorctl api -X PUT /api/v1/profile -d '{"nickname":"johnny"}'
  jq -n '{symbol: "DYOR"}' | dyorctl api /api/v1/orders --input -
  dyorctl api -i -H 'Accept-Language: de' /api/v1/orders | head -20`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErrorf("dyorctl api takes one PATH, got %d arguments (see \"dyorctl api --help\")", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Path = args[0]
			opts.HasData = cmd.Flags().Changed("data")
			if f.JSON() {
				return usageErrorf("dyorctl api prints the server's answer as it is and has no JSON output of its own; run it without -o")
			}
			if opts.HasData && opts.Input != "" {
				return usageErrorf("-d and --input both give the body: use one")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return apiRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.Method, "method", "X", "", "HTTP `METHOD` (default GET, or POST with a body)")
	fl.StringVarP(&opts.Data, "data", "d", "", "request body `DATA` (JSON)")
	fl.StringVar(&opts.Input, "input", "", "read the request body from `FILE` (\"-\" for stdin)")
	fl.StringArrayVarP(&opts.Headers, "header", "H", nil, "add a request header `'Name: value'` (repeatable)")
	fl.BoolVarP(&opts.Include, "include", "i", false, "print the status line and the answer's headers before the body")
	return cmd
}

// apiRequest is a checked request, ready to be sent (and sent again).
type apiRequest struct {
	method string
	url    string
	body   []byte
	header http.Header
}

func apiRun(ctx context.Context, opts *APIOptions) error {
	f := opts.Factory
	server, err := f.Server()
	if err != nil {
		return err
	}
	req, err := opts.request(server, f.IO.In)
	if err != nil {
		return err
	}

	// The token: DYOR_TOKEN as it is, or the active account's.
	var c *client.Client
	var username, token string
	nctx, cancel := f.NetContext(ctx)
	defer cancel()
	if env := f.Getenv("DYOR_TOKEN"); env != "" {
		if _, err := checkEnvToken(env, f.Now()); err != nil {
			return err
		}
		token = env
	} else {
		var current client.Tokens
		if _, c, current, err = f.ActiveSession(ctx); err != nil {
			return err
		}
		username = current.Username
		if token, err = c.AccessToken(nctx); err != nil {
			return forAccount(username, err)
		}
	}

	hc := f.plainHTTPClient()
	resp, body, err := req.send(nctx, hc, token)
	if err != nil {
		return forAccount(username, err)
	}
	replayed := false
	if ae := client.AnswerError(resp.StatusCode, body, token); ae != nil && ae.Code == api.CodeTokenExpired && c != nil {
		// The server took the token as expired before doing anything, so
		// the request may be sent again, once, after a refresh.
		fresh, err := renewRefused(nctx, c, token)
		if err != nil {
			return forAccount(username, err)
		}
		if resp, body, err = req.send(nctx, hc, fresh); err != nil {
			return forAccount(username, err)
		}
		replayed = true
	}

	if opts.Include {
		writeHead(f.IO.Out, resp)
	}
	if err := writeBody(f.IO.Out, body, f.IO.StdoutTTY); err != nil {
		return err
	}
	return apiFailure(resp.StatusCode, body, token, replayed, username, c == nil)
}

// renewRefused returns an access token to replace refused: the stored one
// if another process has rotated the session meanwhile, else a new one
// from one refresh under the store's lock.
func renewRefused(ctx context.Context, c *client.Client, refused string) (string, error) {
	cur, err := c.Tokens(ctx)
	if err != nil {
		return "", err
	}
	if cur.Access != refused {
		return cur.Access, nil
	}
	t, err := c.Refresh(ctx)
	if err != nil {
		return "", err
	}
	return t.Access, nil
}

// apiFailure is nil for a 2xx answer, else the error of the exit code the
// answer stands for.
func apiFailure(status int, body []byte, token string, replayed bool, username string, fromEnv bool) error {
	ae := client.AnswerError(status, body, token)
	if ae == nil {
		return nil
	}
	what := "no message"
	if ae.Message != "" {
		what = sentence(ae.Message)
	}
	if ae.Code != 0 {
		what += fmt.Sprintf(" (%d)", ae.Code)
	}
	if username == "" {
		username = "USERNAME"
	}
	out := func(code int, format string, args ...any) error {
		return &ExitError{Code: code, Message: fmt.Sprintf(format, args...), APICode: ae.Code}
	}
	switch {
	case status == http.StatusUnauthorized && fromEnv:
		return out(exitAuth, "the server refused the access token in DYOR_TOKEN: %s", what)
	case status == http.StatusUnauthorized && replayed:
		return out(exitAuth, "the server still refused the access token after a refresh: %s; check this machine's clock, or run \"dyorctl login -u %s\"", what, username)
	case status == http.StatusUnauthorized:
		return out(exitAuth, "the server refused the session: %s; run \"dyorctl login -u %s\"", what, username)
	case status >= 500:
		return out(exitUnreachable, "server error: %s: %s", statusText(status), what)
	default:
		return out(exitError, "the server answered %s: %s", statusText(status), what)
	}
}

// request checks the command line and builds the request.
func (opts *APIOptions) request(server string, stdin io.Reader) (*apiRequest, error) {
	target, err := apiURL(server, opts.Path)
	if err != nil {
		return nil, err
	}
	r := &apiRequest{url: target, header: http.Header{}}
	hasBody := opts.HasData || opts.Input != ""
	switch {
	case opts.HasData:
		r.body = []byte(opts.Data)
	case opts.Input != "":
		if r.body, err = readInput(opts.Input, stdin); err != nil {
			return nil, err
		}
	}
	r.method = strings.ToUpper(opts.Method)
	if r.method == "" {
		r.method = http.MethodGet
		if hasBody {
			r.method = http.MethodPost
		}
	}
	if !isToken(r.method) {
		return nil, usageErrorf("-X takes an HTTP method, such as GET, POST or PUT")
	}
	for _, h := range opts.Headers {
		name, value, ok := strings.Cut(h, ":")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		switch {
		case !ok:
			return nil, usageErrorf("a -H header has no colon: write it as 'Name: value'")
		case !isToken(name):
			return nil, usageErrorf("a -H header's name is not a header name: letters, digits and -, as in 'X-Request-Id: 42'")
		case strings.ContainsAny(value, "\r\n\x00"):
			return nil, usageErrorf("a -H header's value must be one line")
		case strings.EqualFold(name, "Authorization"):
			return nil, usageErrorf("-H Authorization: dyorctl sends the access token itself; drop the header")
		}
		r.header.Add(name, value)
	}
	if hasBody && r.header.Get("Content-Type") == "" {
		r.header.Set("Content-Type", "application/json")
	}
	if r.header.Get("Accept") == "" {
		r.header.Set("Accept", "application/json")
	}
	r.header.Set("User-Agent", userAgent())
	return r, nil
}

// apiURL joins server and a PATH from the command line, refusing anything
// that would reach another host or an account route.
func apiURL(server, p string) (string, error) {
	if p == "" || strings.Contains(p, "://") || strings.HasPrefix(p, "//") {
		return "", usageErrorf("PATH must be a path on the server, such as /api/v1/orders: a URL of another host is refused")
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	u, err := url.Parse(server + p)
	if err != nil || strings.ContainsAny(p, " \t\r\n") {
		return "", usageErrorf("PATH is not a usable path: no spaces, and a path such as /api/v1/orders?limit=5")
	}
	base, _ := url.Parse(server)
	if u.Scheme != base.Scheme || u.Host != base.Host || u.Fragment != "" {
		return "", usageErrorf("PATH must be a path on the server, such as /api/v1/orders: a URL of another host is refused")
	}
	rel := strings.TrimPrefix(path.Clean(u.Path), strings.TrimRight(base.Path, "/"))
	if rt, ok := api.RouteByPath(rel); ok {
		return "", usageErrorf("%s is an account route: use \"dyorctl %s\", which keeps the credentials file right and never prints a token", rt.Path, rt.Name)
	}
	return u.String(), nil
}

// readInput reads --input: a file, or stdin for "-".
func readInput(name string, stdin io.Reader) ([]byte, error) {
	var r io.Reader = stdin
	what := "stdin"
	if name != "-" {
		what = "the file"
	}
	if name != "-" {
		file, err := os.Open(name)
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return nil, usageErrorf("--input FILE cannot be read: %v", err)
		}
		defer file.Close()
		r = file
	}
	data, err := io.ReadAll(io.LimitReader(r, maxAPIBody+1))
	if err != nil {
		return nil, usageErrorf("--input: reading %s: %v", what, err)
	}
	if len(data) > maxAPIBody {
		return nil, usageErrorf("--input: %s holds more than %d MiB", what, maxAPIBody>>20)
	}
	return data, nil
}

// send sends the request with token and reads the whole answer. It tries
// again, twice at most, only when the connection could not be made: then
// the request provably never reached the server, whatever its method.
func (r *apiRequest) send(ctx context.Context, hc *http.Client, token string) (*http.Response, []byte, error) {
	for attempt := 0; ; attempt++ {
		resp, body, err := r.sendOnce(ctx, hc, token)
		if err == nil || attempt == 2 || !client.NeverSent(err) {
			return resp, body, err
		}
		wait := 250 * time.Millisecond << attempt
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return resp, body, err
		}
	}
}

// sendOnce sends the request once. Redirects are not followed: the answer
// is the server's own.
func (r *apiRequest) sendOnce(ctx context.Context, hc *http.Client, token string) (*http.Response, []byte, error) {
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, r.url, body)
	if err != nil {
		return nil, nil, err
	}
	req.Header = r.header.Clone()
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAPIBody+1))
	if err != nil {
		return nil, nil, err
	}
	if len(data) > maxAPIBody {
		return nil, nil, exitErrorf(exitError, "the answer is larger than %d MiB", maxAPIBody>>20)
	}
	return resp, data, nil
}

// writeHead prints the status line and headers, as -i does: sorted, and
// made safe for a terminal.
func writeHead(w io.Writer, resp *http.Response) {
	fmt.Fprintf(w, "%s %s\n", resp.Proto, safetext.Visible(resp.Status))
	names := make([]string, 0, len(resp.Header))
	for name := range resp.Header {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		for _, v := range resp.Header[name] {
			fmt.Fprintf(w, "%s: %s\n", safetext.Visible(name), safetext.Visible(v))
		}
	}
	fmt.Fprintln(w)
}

// writeBody prints the answer's body: as received, or for a person at a
// terminal indented when it is JSON and with anything that could steer
// the terminal made visible.
func writeBody(w io.Writer, body []byte, tty bool) error {
	if !tty {
		_, err := w.Write(body)
		return err
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, body, "", "  ") == nil {
		body = pretty.Bytes()
	}
	out := safetext.Visible(string(body))
	if out != "" && !strings.HasSuffix(out, "\n") {
		out += "\n"
	}
	_, err := io.WriteString(w, out)
	return err
}

// isToken reports whether s is an HTTP token (a method or header name).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// clip shortens text from the command line for an error message.
func clip(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return safetext.Visible(s)
}
