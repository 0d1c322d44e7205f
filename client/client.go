package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
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
		if !cur.Refreshable(now) {
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
