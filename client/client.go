package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dyor-exchange/dyorctl/api"
)

const (
	// maxBody caps how much of a response body is read.
	maxBody = 1 << 20

	// defaultMargin is the refresh margin unless half the access token's
	// lifetime is shorter.
	defaultMargin = 60 * time.Second

	modulePath = "github.com/dyor-exchange/dyorctl"
)

// Client talks to the account API of one server. It is safe for concurrent
// use; make one per server and account and share it.
type Client struct {
	baseURL   string // normalised, without a trailing slash
	origin    origin
	hc        *http.Client // as given by WithHTTPClient; the base of HTTPClient
	api       *http.Client // hc without redirects, for the API's routes
	userAgent string
	store     TokenStore
	margin    time.Duration
	marginSet bool
	now       func() time.Time
	retries   int // resends after a dial error, or a 429/503 with Retry-After

	mu      sync.Mutex
	flights map[string]*flight // refreshes in progress, by kind and token
}

// Option configures a Client in New. An option that is given a bad value
// makes New return an error.
type Option func(*Client) error

// WithHTTPClient sets the HTTP client used for the API's routes, and whose
// transport HTTPClient wraps. The default is a plain &http.Client{}: bound
// requests with contexts, or give a client with a Timeout.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) error {
		if hc == nil {
			return errors.New("WithHTTPClient: the HTTP client is nil")
		}
		c.hc = hc
		return nil
	}
}

// WithUserAgent sets the User-Agent header of the client's requests.
func WithUserAgent(ua string) Option {
	return func(c *Client) error {
		if strings.TrimSpace(ua) == "" || strings.ContainsAny(ua, "\r\n\x00") {
			return fmt.Errorf("WithUserAgent: %q is not a usable User-Agent", ua)
		}
		c.userAgent = ua
		return nil
	}
}

// WithTokenStore sets where the tokens are kept. The default is
// NewMemoryStore(); credstore has the file store dyorctl uses.
func WithTokenStore(s TokenStore) Option {
	return func(c *Client) error {
		if s == nil {
			return errors.New("WithTokenStore: the store is nil")
		}
		c.store = s
		return nil
	}
}

// WithRefreshMargin sets how long before its expiry an access token is
// refreshed. The default is 60 s, or half the access token's lifetime if
// that is shorter. A margin longer than the token's lifetime makes every
// AccessToken call refresh.
func WithRefreshMargin(d time.Duration) Option {
	return func(c *Client) error {
		if d < 0 {
			return fmt.Errorf("WithRefreshMargin: %v is negative", d)
		}
		c.margin, c.marginSet = d, true
		return nil
	}
}

// WithClock sets the clock the client compares token expiry with; for
// tests (give it the mock server's clock). The default is time.Now.
func WithClock(now func() time.Time) Option {
	return func(c *Client) error {
		if now == nil {
			return errors.New("WithClock: the clock is nil")
		}
		c.now = now
		return nil
	}
}

// WithRetries sets how many times a request is sent again (default 2):
// after a dial error, which proves the request never reached the server
// (connection refused, no route, a dial timeout), with a backoff that
// doubles from 250 ms; and for register and login, after a 429 or 503
// answer that carries Retry-After, once that time has passed (at most
// 30 s, and never beyond the context's deadline). Nothing else is ever
// resent: in particular a refresh whose answer was lost may have rotated
// the session on the server, so it is never sent twice. 0 turns retries
// off.
func WithRetries(n int) Option {
	return func(c *Client) error {
		if n < 0 {
			return fmt.Errorf("WithRetries: %d is negative", n)
		}
		c.retries = n
		return nil
	}
}

// New returns a client for the server at baseURL, such as
// "https://www.dyorbackend.tk" or "http://127.0.0.1:8080" (scheme, host,
// optional port and path prefix); the routes are under
// baseURL + "/api/v1/account/". A base URL that is not http(s), has no host,
// or carries credentials, a query or a fragment is an error.
func New(baseURL string, opts ...Option) (*Client, error) {
	norm, o, err := parseBaseURL(baseURL)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	c := &Client{
		baseURL:   norm,
		origin:    o,
		hc:        &http.Client{},
		userAgent: defaultUserAgent(),
		store:     NewMemoryStore(),
		now:       time.Now,
		retries:   defaultRetries,
		flights:   make(map[string]*flight),
	}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(c); err != nil {
			return nil, fmt.Errorf("client: %w", err)
		}
	}
	// The API's routes never redirect: following one would send a password
	// or a token to wherever the redirect points. A 3xx is an error.
	api := *c.hc
	api.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.api = &api
	return c, nil
}

// origin is what decides whether a request goes to the client's server:
// scheme and host, with the port made explicit.
type origin struct{ scheme, host string }

func originOf(u *url.URL) origin {
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if port == "" {
		port = defaultPort(scheme)
	}
	return origin{scheme, net.JoinHostPort(host, port)}
}

func defaultPort(scheme string) string {
	switch scheme {
	case "http":
		return "80"
	case "https":
		return "443"
	}
	return ""
}

// NormalizeBaseURL checks a server URL as New does and returns it in the
// form BaseURL gives: lower-case scheme and host, no default port, no
// trailing slash. Stores key their accounts by it (package credstore). A
// URL that is not http(s), has no host, or carries credentials, a query or
// a fragment is an error; the error quotes the URL only when it holds no
// credentials.
func NormalizeBaseURL(raw string) (string, error) {
	norm, _, err := parseBaseURL(raw)
	return norm, err
}

// parseBaseURL is NormalizeBaseURL, and the origin requests must go to.
func parseBaseURL(raw string) (string, origin, error) {
	shown := strconv.Quote(raw)
	bad := func(why string) (string, origin, error) {
		return "", origin{}, fmt.Errorf("%s is not a server URL: it %s (want http(s)://host[:port][/path])", shown, why)
	}
	u, err := url.Parse(raw)
	if err != nil {
		shown = "the URL" // it may hold a password that did not parse as one
		return bad("does not parse")
	}
	if u.User != nil {
		shown = "the URL"
	}
	scheme := strings.ToLower(u.Scheme)
	switch {
	case scheme != "http" && scheme != "https":
		return bad("is not http or https")
	case u.Opaque != "" || u.Host == "" || u.Hostname() == "":
		return bad("has no host")
	case u.User != nil:
		return bad("carries credentials")
	case u.RawQuery != "" || u.ForceQuery:
		return bad("has a query")
	case u.Fragment != "" || strings.HasSuffix(raw, "#"):
		return bad("has a fragment")
	}
	host := hostKey(u.Hostname())
	if port := u.Port(); port != "" && port != defaultPort(scheme) {
		host += ":" + port
	}
	norm := scheme + "://" + host + strings.TrimRight(u.EscapedPath(), "/")
	return norm, originOf(u), nil
}

// hostKey returns host (as url.URL.Hostname gives it) lower-cased and ready
// to go back into a URL: "%" (from "%25") encoded again, an IPv6 literal in
// brackets with its zone (case-sensitive, like the interface name it is)
// percent-encoded, so that the URL parses again to the same host (RFC
// 6874). NormalizeBaseURL goes through this too, so BaseURL is the
// credentials file's key.
func hostKey(host string) string {
	if !strings.Contains(host, ":") {
		return strings.ReplaceAll(strings.ToLower(host), "%", "%25")
	}
	addr, zone, hasZone := strings.Cut(host, "%")
	addr = strings.ToLower(addr)
	if !hasZone {
		return "[" + addr + "]"
	}
	var b strings.Builder
	for i := 0; i < len(zone); i++ {
		c := zone[i]
		// Bytes of UTF-8 stay as they are (net/url wants them so);
		// ASCII other than unreserved is percent-encoded.
		if c >= 0x80 || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return "[" + addr + "%25" + b.String() + "]"
}

// defaultUserAgent is "dyorctl-sdk/<module version>" ("dev" when built
// from a checkout).
var defaultUserAgent = sync.OnceValue(func() string {
	version := "dev"
	if info, ok := debug.ReadBuildInfo(); ok {
		if info.Main.Path == modulePath && info.Main.Version != "" && info.Main.Version != "(devel)" {
			version = info.Main.Version
		}
		for _, dep := range info.Deps {
			if dep.Path == modulePath && dep.Version != "" {
				version = dep.Version
			}
		}
	}
	return "dyorctl-sdk/" + version
})

// BaseURL returns the server's URL, normalised (lower-case scheme and host,
// no default port, no trailing slash).
func (c *Client) BaseURL() string { return c.baseURL }

// Store returns the client's token store.
func (c *Client) Store() TokenStore { return c.store }

// tokenResult is the result of login and refresh.
type tokenResult api.TokenResult

func (r tokenResult) tokens(route string) (Tokens, error) {
	t, err := ParseTokens(r.Token.Access, r.Token.Refresh)
	if err != nil {
		return Tokens{}, fmt.Errorf("%s: the server's tokens cannot be read: %w", route, err)
	}
	return t, nil
}

// Register creates an account. It does not log in.
func (c *Client) Register(ctx context.Context, username, password string) error {
	_, err := c.call(ctx, routeRegister, "", api.Credentials{Username: username, Password: password}, nil)
	return err
}

// Login checks the password, saves the new token pair in the store (with
// Username set, and ClockOffset measured from the answer's Date header)
// and returns it. The request is sent from inside the store's
// Update, so a store that must write a file makes sure it can before the
// server creates a session (credstore prepares its write first), and a
// store that cannot stops the login with nothing sent. If the tokens
// cannot be saved after the server answered, Login returns them with the
// error, so that the caller can end the session nothing stores.
func (c *Client) Login(ctx context.Context, username, password string) (Tokens, error) {
	var t Tokens
	_, err := c.store.Update(ctx, func(cur Tokens) (Tokens, error) {
		var res tokenResult
		ans, err := c.call(ctx, routeLogin, "", api.Credentials{Username: username, Password: password}, &res)
		if err != nil {
			return cur, err
		}
		got, err := res.tokens("login")
		if err != nil {
			return cur, err
		}
		got.Username = username
		got.ClockOffset = ans.clockOffset
		t = got
		return got, nil
	})
	switch {
	case err != nil && !t.IsZero():
		return t, fmt.Errorf("logged in, but the tokens could not be saved: %w", err)
	case err != nil:
		return Tokens{}, err
	}
	return t, nil
}

// Refresh rotates the session now and saves the new pair before returning
// it. It runs under the store's lock and re-reads the store there: if the
// stored refresh token is no longer the one this call started with (another
// process or goroutine rotated it meanwhile), it returns the stored tokens
// without a request, so no refresh token is ever presented twice; if the
// store holds another account by then, that account is refreshed. It
// returns ErrNotLoggedIn (without a request) when the store is empty.
//
// When the server rejects the session (api.Code.SessionRejected), or the refresh
// token has expired, the stored tokens are removed and the error matches
// ErrSessionInvalid. After a network error or a 5xx they are kept. A failed
// refresh is not retried: the server may have rotated the session already.
func (c *Client) Refresh(ctx context.Context) (Tokens, error) {
	t, err := c.store.Load(ctx)
	if err != nil {
		return Tokens{}, err
	}
	seen, user := t.Refresh, t.Username
	t, err = c.shared(ctx, "refresh\x00"+seen, func(ctx context.Context) (Tokens, error) {
		// Another refresh of the same session is as good as this one; but
		// when the store now holds another account (a switch meanwhile),
		// that account's session is the one to refresh.
		return c.rotate(ctx, func(cur Tokens) bool { return cur.Refresh == seen || cur.Username != user })
	})
	if err != nil {
		return Tokens{}, err
	}
	return t, nil
}

// AccessToken returns a valid access token: the stored one while it expires
// after the refresh margin, otherwise a new one from a refresh (see
// Refresh for what happens when that fails). Concurrent callers of one
// Client share one refresh, and the refresh runs under the store's lock
// after re-reading it, so when another process has just refreshed, its
// tokens are used instead of refreshing again. The new tokens are saved
// before they are returned.
func (c *Client) AccessToken(ctx context.Context) (string, error) {
	t, err := c.store.Load(ctx)
	if err != nil {
		return "", err
	}
	if c.fresh(t) {
		return t.Access, nil
	}
	t, err = c.shared(ctx, "auto", func(ctx context.Context) (Tokens, error) {
		return c.rotate(ctx, func(cur Tokens) bool { return !c.fresh(cur) })
	})
	if err != nil {
		return "", err
	}
	if !t.AccessExpiresAt.After(t.ServerNow(c.now())) {
		return "", fmt.Errorf("the server issued an access token that expired already (at %s): check the clock",
			t.AccessExpiresAt.Format(time.RFC3339))
	}
	return t.Access, nil
}

// Tokens returns the stored tokens, without any request; ErrNotLoggedIn
// when there are none.
func (c *Client) Tokens(ctx context.Context) (Tokens, error) {
	return c.store.Load(ctx)
}

// Logout deletes the session on the server, with the stored access token
// (the refresh token if the access token has expired), then removes the
// stored tokens — always, even when the server call failed, whose error it
// then returns. ErrNotLoggedIn (no request) when the store is empty; an
// error matching ErrSessionInvalid (no request) when the refresh token has
// expired, and when the server no longer knew the session.
func (c *Client) Logout(ctx context.Context) error {
	_, err := c.store.Update(ctx, func(cur Tokens) (Tokens, error) {
		if cur.IsZero() {
			return Tokens{}, ErrNotLoggedIn
		}
		now := cur.ServerNow(c.now())
		if !cur.Valid(now) {
			return Tokens{}, sessionExpired(cur)
		}
		if cur.AccessExpiresAt.After(now) {
			_, err := c.call(ctx, routeLogout, cur.Access, nil, nil)
			var ae *APIError
			// The clocks may disagree: the refresh token lives longer.
			if !errors.As(err, &ae) || ae.Code != api.CodeTokenExpired {
				return Tokens{}, err
			}
		}
		_, err := c.call(ctx, routeLogout, cur.Refresh, nil, nil)
		return Tokens{}, err
	})
	return err
}

func sessionExpired(t Tokens) error {
	return fmt.Errorf("%w: the refresh token expired at %s", ErrSessionInvalid, t.RefreshExpiresAt.Format(time.RFC3339))
}

// refreshMargin is how long before its expiry t's access token is
// refreshed.
func (c *Client) refreshMargin(t Tokens) time.Duration {
	if c.marginSet {
		return c.margin
	}
	m := defaultMargin
	if !t.AccessIssuedAt.IsZero() {
		if half := t.AccessExpiresAt.Sub(t.AccessIssuedAt) / 2; half < m {
			m = max(half, 0)
		}
	}
	return m
}

// fresh reports whether t's access token expires after the margin, on
// the server's clock.
func (c *Client) fresh(t Tokens) bool {
	return t.Access != "" && t.AccessExpiresAt.After(t.ServerNow(c.now()).Add(c.refreshMargin(t)))
}

// rotate refreshes the stored tokens under the store's lock if needed says
// so of what is stored then. The new pair is saved by Update before anyone
// gets it. A session the server rejects, or whose refresh token has
// expired, is removed; after other errors the tokens are kept.
func (c *Client) rotate(ctx context.Context, needed func(Tokens) bool) (Tokens, error) {
	return c.store.Update(ctx, func(cur Tokens) (Tokens, error) {
		if cur.IsZero() {
			return Tokens{}, ErrNotLoggedIn
		}
		if !needed(cur) {
			return cur, nil
		}
		if !cur.Valid(cur.ServerNow(c.now())) {
			return Tokens{}, sessionExpired(cur)
		}
		var res tokenResult
		ans, err := c.call(ctx, routeRefresh, cur.Refresh, nil, &res)
		if err != nil {
			if isSessionRejected(err) {
				return Tokens{}, err
			}
			return cur, err
		}
		next, err := res.tokens("refresh")
		if err != nil {
			return cur, err
		}
		next.Username = cur.Username
		next.ClockOffset = cur.ClockOffset
		if ans.dated {
			next.ClockOffset = ans.clockOffset
		}
		return next, nil
	})
}

// flight is a refresh shared by the callers that want it.
type flight struct {
	done    chan struct{}
	tokens  Tokens
	err     error
	waiters int
	cancel  context.CancelFunc
}

// shared runs do once for all concurrent callers with the same key and
// gives each its result. do runs on a context detached from any one
// caller's cancellation: it is cancelled only when every caller waiting for
// it has given up, since a refresh cut short after the server rotated loses
// the session. Each caller still returns as soon as its own ctx is done.
func (c *Client) shared(ctx context.Context, key string, do func(context.Context) (Tokens, error)) (Tokens, error) {
	if err := ctx.Err(); err != nil {
		return Tokens{}, err
	}
	c.mu.Lock()
	f := c.flights[key]
	if f == nil {
		fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		f = &flight{done: make(chan struct{}), cancel: cancel}
		c.flights[key] = f
		go func() {
			t, err := do(fctx)
			c.mu.Lock()
			if c.flights[key] == f {
				delete(c.flights, key)
			}
			f.tokens, f.err = t, err
			c.mu.Unlock()
			cancel()
			close(f.done)
		}()
	}
	f.waiters++
	c.mu.Unlock()

	select {
	case <-f.done:
		return f.tokens, f.err
	case <-ctx.Done():
		c.mu.Lock()
		f.waiters--
		if f.waiters == 0 {
			f.cancel()
			if c.flights[key] == f {
				delete(c.flights, key) // later callers start afresh
			}
		}
		c.mu.Unlock()
		return Tokens{}, ctx.Err()
	}
}

// The routes of the contract, by name.
var (
	routeRegister = mustRoute("register")
	routeLogin    = mustRoute("login")
	routeRefresh  = mustRoute("refresh")
	routeLogout   = mustRoute("logout")
)

func mustRoute(name string) api.Route {
	rt, ok := api.RouteByName(name)
	if !ok {
		panic("client: no route " + name + " in package api")
	}
	return rt
}

// answer is what call learned from the server besides the result.
type answer struct {
	clockOffset time.Duration // the server's clock minus ours, from Date
	dated       bool          // the answer had a Date header that parsed
	retryAfter  time.Duration // from Retry-After; 0 when absent
}

// call sends one API request and decodes the answer into out (if not nil).
// bearer, if not empty, goes in the Authorization header. It sends again
// only where WithRetries says it is safe.
func (c *Client) call(ctx context.Context, rt api.Route, bearer string, in, out any) (answer, error) {
	route := rt.Name
	var data []byte
	if in != nil {
		var err error
		if data, err = json.Marshal(in); err != nil {
			return answer{}, fmt.Errorf("%s: encoding the request: %w", route, err)
		}
	}
	// Register and login change nothing when the server turns them away
	// as busy, so they may wait as the server asks.
	busyRetry := rt == routeRegister || rt == routeLogin
	for attempt := 0; ; attempt++ {
		ans, err := c.callOnce(ctx, rt, bearer, data, in, out)
		if err == nil || attempt >= c.retries || ctx.Err() != nil {
			return ans, err
		}
		var wait time.Duration
		switch {
		case neverSent(err):
			wait = defaultBackoff << attempt
			wait = wait/2 + rand.N(wait/2+1) // jitter, so that clients retrying together spread out
		case busyRetry && isBusy(err) && ans.retryAfter > 0 && ans.retryAfter <= maxRetryAfter:
			wait = ans.retryAfter
		default:
			return ans, err
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			return ans, err // waiting would only end in a timeout
		}
		if sleepCtx(ctx, wait) != nil {
			return ans, err
		}
	}
}

const (
	defaultRetries = 2
	// defaultBackoff is the first wait after a dial error; it doubles.
	defaultBackoff = 250 * time.Millisecond
	// maxRetryAfter is the longest Retry-After that is waited for.
	maxRetryAfter = 30 * time.Second
)

// neverSent reports whether err is a failure to connect, which proves the
// request never reached the server: a dial error (connection refused, no
// route, a dial timeout). A host that does not exist is not worth another
// try.
func neverSent(err error) bool {
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "dial" {
		return false
	}
	var dnsErr *net.DNSError
	return !(errors.As(err, &dnsErr) && dnsErr.IsNotFound)
}

// isBusy reports a 429 or 503 answer.
func isBusy(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && (ae.Status == http.StatusTooManyRequests || ae.Status == http.StatusServiceUnavailable)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// callOnce sends the request once: in, already encoded as data, as its
// body when not nil.
func (c *Client) callOnce(ctx context.Context, rt api.Route, bearer string, data []byte, in, out any) (answer, error) {
	route := rt.Name
	hasBody := in != nil
	var body io.Reader
	if hasBody {
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, rt.Method, c.baseURL+rt.Path, body)
	if err != nil {
		return answer{}, fmt.Errorf("%s: %w", route, err)
	}
	if hasBody {
		req.Header.Set("Content-Type", "application/json")
	} else if rt.Method == http.MethodGet {
		// net/http sends a GET again by itself when a reused connection
		// closes before the answer; a refresh that reached the server has
		// rotated the session, so it must never be resent. A request body
		// that cannot be replayed rules that out (it is empty: nothing is
		// sent).
		req.Body, req.GetBody = io.NopCloser(strings.NewReader("")), nil
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}

	resp, err := c.api.Do(req)
	if err != nil {
		return answer{}, fmt.Errorf("%s: %w", route, err)
	}
	received := c.now()
	defer func() {
		// Drain a little so the connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		_ = resp.Body.Close()
	}()
	var ans answer
	ans.clockOffset, ans.dated = ClockOffset(resp.Header, received)
	ans.retryAfter = retryAfter(resp.Header)
	data, readErr := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	success := resp.StatusCode >= 200 && resp.StatusCode < 300
	if readErr != nil && success {
		return ans, fmt.Errorf("%s: reading the answer (%s): %w", route, statusText(resp.StatusCode), readErr)
	}
	// A failure status says enough even when its body was cut short.
	return ans, decodeAnswer(resp.StatusCode, data, out, requestSecrets(bearer, in)...)
}

// ClockOffset measures how far the clock of the server that sent h is
// ahead of ours (negative: behind) from its Date header, for an answer
// received at received on our clock. Servers stamp Date as the answer goes
// out, so it is compared with when the answer came in (what the trip back
// took is the error, with a slow handler's time not counted); Date counts
// whole seconds, so the server's time is taken as the middle of its
// second, and an offset within one second is reported as zero, since the
// header cannot tell it from none. ok is false when h has no Date that
// parses.
func ClockOffset(h http.Header, received time.Time) (offset time.Duration, ok bool) {
	date, err := http.ParseTime(h.Get("Date"))
	if err != nil {
		return 0, false
	}
	offset = date.Add(500 * time.Millisecond).Sub(received).Round(time.Millisecond)
	if offset > -time.Second && offset < time.Second {
		offset = 0
	}
	return offset, true
}

// retryAfter reads a Retry-After header given in seconds; 0 when absent
// or given otherwise.
func retryAfter(h http.Header) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > int(maxRetryAfter/time.Second)+1 {
		return 0
	}
	if n == 0 {
		return time.Millisecond // "now": a nominal pause
	}
	return time.Duration(n) * time.Second
}
