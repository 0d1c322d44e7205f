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
	"strconv"
	"strings"
	"time"

	"github.com/dyor-exchange/dyorctl/api"
)

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
		case NeverSent(err):
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

// NeverSent reports whether err is a failure to connect, which proves the
// request never reached the server: a dial error (connection refused, no
// route, a dial timeout). Only such a request may be sent again blindly;
// the client retries nothing else (see WithRetries). A host that does not
// exist is not worth another try. For programs that send requests of their
// own through HTTPClient.
func NeverSent(err error) bool {
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
