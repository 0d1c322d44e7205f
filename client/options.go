package client

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

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
