package dyorctlcmd

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/net/http/httpproxy"

	"github.com/dyor-exchange/dyorctl/client"
	"github.com/dyor-exchange/dyorctl/credstore"
	"github.com/dyor-exchange/dyorctl/internal/buildinfo"
	"github.com/dyor-exchange/dyorctl/tui"
)

const (
	defaultServer  = "https://www.dyorbackend.tk"
	defaultTimeout = 30 * time.Second
)

// globalOptions are the root's flags, read by every command.
type globalOptions struct {
	server    string // --server, or DYOR_SERVER
	configDir string // --config-dir, or DYOR_CONFIG_DIR
	output    string // -o: "text" or "json"
	timeout   time.Duration
	verbose   bool
	caCert    string         // --ca-cert, or DYOR_CA_CERT
	caPool    *x509.CertPool // the system's roots plus caCert's; nil without caCert
}

// Factory gives commands what they need, built from the global flags on
// first use: nothing is read from the process's environment or the disk
// behind a command's back, so tests run commands in parallel in one process.
type Factory struct {
	IO     *IOStreams
	Getenv func(string) string
	// LookupEnv is os.LookupEnv in a real run: unlike Getenv it tells a
	// variable set to "" from one not set (see checkEmptyEnv). NewFactory
	// derives it from Getenv, which sees only non-empty values.
	LookupEnv func(string) (string, bool)
	// Environ is the whole environment (os.Environ), which dyorctl exec
	// hands on to its command.
	Environ func() []string
	// Now is the clock that token expiry is judged by (the SDK's too).
	Now func() time.Time

	// UserConfigDir is os.UserConfigDir, the base of the default config dir.
	UserConfigDir func() (string, error)
	// RunTUI runs the interactive app (tui.Run).
	RunTUI func(ctx context.Context, opts tui.Options) error
	// DialContext, when set, replaces the dialer of every connection
	// (tests point a name at a loopback address with it).
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)

	global     globalOptions
	serverURL  string // normalised, once Server succeeded
	httpClient *http.Client
}

// NewFactory returns the factory of a real run.
func NewFactory(ios *IOStreams, getenv func(string) string) *Factory {
	return &Factory{
		IO:            ios,
		Getenv:        getenv,
		LookupEnv:     func(k string) (string, bool) { v := getenv(k); return v, v != "" },
		Environ:       os.Environ,
		Now:           time.Now,
		UserConfigDir: os.UserConfigDir,
		RunTUI:        tui.Run,
	}
}

// checkEmptyEnv refuses DYOR_SERVER or DYOR_CONFIG_DIR set to "" when its
// flag is not given. An empty value would otherwise mean the default: for
// DYOR_SERVER the production server, where a script that meant a local mock
// (DYOR_SERVER=$(cat url-file) before the file existed) would register and
// log in for real.
func (f *Factory) checkEmptyEnv(flags *pflag.FlagSet) error {
	for _, e := range []struct{ name, flag, instead string }{
		{"DYOR_SERVER", "server", "unset it to use " + defaultServer + ", or set it to a server URL"},
		{"DYOR_CONFIG_DIR", "config-dir", "unset it to use the default config dir, or set it to a directory"},
	} {
		if flags.Changed(e.flag) {
			continue
		}
		if v, ok := f.LookupEnv(e.name); ok && strings.TrimSpace(v) == "" {
			return usageErrorf("%s is set but empty: %s", e.name, e.instead)
		}
	}
	return nil
}

// JSON reports whether the output is -o json.
func (f *Factory) JSON() bool { return f.global.output == "json" }

// PrintJSON prints the command's one JSON object on stdout.
func (f *Factory) PrintJSON(v any) error { return writeJSON(f.IO.Out, f.IO.StdoutTTY, v) }

// Messagef prints a message for the user on stderr.
func (f *Factory) Messagef(format string, args ...any) {
	fmt.Fprintf(f.IO.ErrOut, format+"\n", args...)
}

// Server returns the selected server's URL, normalised as the credential
// store keys it.
func (f *Factory) Server() (string, error) {
	if f.serverURL != "" {
		return f.serverURL, nil
	}
	norm, err := client.NormalizeBaseURL(f.global.server)
	if err != nil {
		// The error never quotes the URL: it may carry a password.
		return "", usageErrorf("--server: %v", err)
	}
	f.serverURL = norm
	return norm, nil
}

// ConfigDir returns where the credentials are kept: --config-dir, else
// DYOR_CONFIG_DIR, else <user config dir>/dyorctl.
func (f *Factory) ConfigDir() (string, error) {
	dir, err := credstore.Dir(f.global.configDir, f.UserConfigDir)
	if err != nil {
		return "", exitErrorf(exitError, "%v or --config-dir", err)
	}
	return dir, nil
}

// Store opens the credential store in the config dir.
func (f *Factory) Store() (*credstore.Store, error) {
	dir, err := f.ConfigDir()
	if err != nil {
		return nil, err
	}
	st, err := credstore.Open(dir)
	if err != nil {
		return nil, err
	}
	return st, nil
}

// HTTPClient is the client of every request of the run: a transport of its
// own, traced with --verbose.
func (f *Factory) HTTPClient() *http.Client {
	if f.httpClient == nil {
		var rt http.RoundTripper = f.transport()
		if f.global.verbose {
			rt = &traceTransport{base: rt, now: time.Now, w: f.IO.ErrOut}
		}
		f.httpClient = &http.Client{Transport: rt}
	}
	return f.httpClient
}

// plainHTTPClient is HTTPClient (its transport and trace) without
// following redirects: dyorctl api prints the server's own answer.
func (f *Factory) plainHTTPClient() *http.Client {
	hc := *f.HTTPClient()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &hc
}

// appHTTPClient is the HTTP client of the interactive app. The app runs as
// long as the user likes, so --timeout bounds each request instead; and it
// is never traced, since trace lines on stderr would tear the app's screen.
func (f *Factory) appHTTPClient() *http.Client {
	return &http.Client{
		Transport: f.transport(),
		Timeout:   f.global.timeout,
	}
}

// transport is net/http's default transport with the run's network
// settings: the proxy from HTTPS_PROXY, HTTP_PROXY and NO_PROXY as read
// through Getenv, and the CA of --ca-cert.
func (f *Factory) transport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = proxyFunc(f.Getenv)
	if f.DialContext != nil {
		tr.DialContext = f.DialContext
	}
	if f.global.caPool != nil {
		tr.TLSClientConfig = &tls.Config{RootCAs: f.global.caPool, MinVersion: tls.VersionTLS12}
	}
	return tr
}

// proxyFunc picks the proxy of a request as net/http's
// ProxyFromEnvironment does (the same code, golang.org/x/net's
// httpproxy), from getenv rather than the process's environment:
// HTTPS_PROXY for https URLs, HTTP_PROXY for http ones (either also in
// lower case), none for hosts that NO_PROXY lists, nor for localhost and
// loopback addresses.
func proxyFunc(getenv func(string) string) func(*http.Request) (*url.URL, error) {
	either := func(name string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return getenv(strings.ToLower(name))
	}
	cfg := httpproxy.Config{
		HTTPProxy:  either("HTTP_PROXY"),
		HTTPSProxy: either("HTTPS_PROXY"),
		NoProxy:    either("NO_PROXY"),
		CGI:        getenv("REQUEST_METHOD") != "",
	}
	pick := cfg.ProxyFunc()
	return func(r *http.Request) (*url.URL, error) { return pick(r.URL) }
}

// loadCAs returns the system's roots plus the certificates of the PEM file
// at path; flag names the setting for the error.
func loadCAs(path, flag string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, usageErrorf("%s %s cannot be read: %v", flag, path, err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(data) {
		return nil, usageErrorf("%s %s holds no PEM certificate (want a file of \"-----BEGIN CERTIFICATE-----\" blocks)", flag, path)
	}
	return pool, nil
}

// NewClient returns an SDK client for server keeping its tokens in store;
// opts come after the factory's own.
func (f *Factory) NewClient(server string, store client.TokenStore, opts ...client.Option) (*client.Client, error) {
	return f.newClientWith(f.HTTPClient(), server, store, opts...)
}

func (f *Factory) newClientWith(hc *http.Client, server string, store client.TokenStore, opts ...client.Option) (*client.Client, error) {
	return client.New(server, append([]client.Option{
		client.WithHTTPClient(hc),
		client.WithUserAgent(userAgent()),
		client.WithTokenStore(store),
		client.WithClock(f.Now),
	}, opts...)...)
}

// NetContext bounds the command's network work by --timeout. Prompts come
// before it, so a slow typist does not time out.
func (f *Factory) NetContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, f.global.timeout)
}

// close releases the run's idle connections.
func (f *Factory) close() {
	if f.httpClient != nil {
		f.httpClient.CloseIdleConnections()
	}
}

// userAgent is "dyorctl/<version>".
func userAgent() string {
	// buildinfo.String is "dyorctl VERSION (commit …)": one source of truth.
	fields := strings.Fields(buildinfo.String("dyorctl"))
	version := "dev"
	if len(fields) > 1 {
		version = fields[1]
	}
	return "dyorctl/" + version
}

func (f *Factory) errContext() errContext {
	return errContext{server: f.serverURL, timeout: f.global.timeout}
}

// StoredAccounts returns the selected server, the credentials store and
// every account stored in it (an error naming the file when it is corrupt).
func (f *Factory) StoredAccounts() (server string, st *credstore.Store, accounts []credstore.Account, err error) {
	if server, err = f.Server(); err != nil {
		return "", nil, nil, err
	}
	if st, err = f.Store(); err != nil {
		return "", nil, nil, err
	}
	accounts, err = st.Accounts()
	return server, st, accounts, err
}

// ActiveSession returns the selected server, a client on its entry of the
// credentials file, and the stored tokens of its active account; a "not
// logged in" error (exit 4) when there are none. opts go to the client.
func (f *Factory) ActiveSession(ctx context.Context, opts ...client.Option) (server string, c *client.Client, current client.Tokens, err error) {
	if server, err = f.Server(); err != nil {
		return "", nil, client.Tokens{}, err
	}
	st, err := f.Store()
	if err != nil {
		return "", nil, client.Tokens{}, err
	}
	if c, err = f.NewClient(server, st.ForServer(server), opts...); err != nil {
		return "", nil, client.Tokens{}, err
	}
	current, err = c.Tokens(ctx)
	if errors.Is(err, client.ErrNotLoggedIn) {
		return "", nil, client.Tokens{}, notLoggedIn(st, server)
	}
	return server, c, current, err
}

// notLoggedIn is the exit-4 error of a command that needs the server's
// active account when there is none; it points at switch when the server
// has other stored accounts.
func notLoggedIn(st *credstore.Store, server string) error {
	accounts, err := st.Accounts()
	if err != nil {
		return err
	}
	return noActiveAccount(accounts, server)
}

// noActiveAccount is notLoggedIn for accounts already read.
func noActiveAccount(accounts []credstore.Account, server string) error {
	var names []string
	for _, a := range accounts {
		if a.Server == server {
			names = append(names, a.Username)
		}
	}
	if len(names) > 0 {
		return exitErrorf(exitAuth, "no active account for %s: run \"dyorctl switch -u %s\" or \"dyorctl login -u USERNAME\"", server, names[0])
	}
	return exitErrorf(exitAuth, "not logged in to %s: run \"dyorctl login -u USERNAME\"", server)
}

// resolveCA reads --ca-cert, else DYOR_CA_CERT, into caPool.
func (g *globalOptions) resolveCA(flags *pflag.FlagSet, getenv func(string) string) error {
	flag := "--ca-cert"
	if !flags.Changed("ca-cert") {
		g.caCert, flag = getenv("DYOR_CA_CERT"), "DYOR_CA_CERT"
	}
	if g.caCert == "" {
		return nil
	}
	pool, err := loadCAs(g.caCert, flag)
	if err != nil {
		return err
	}
	g.caPool = pool
	return nil
}
