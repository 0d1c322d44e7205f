package client

import (
	"context"
	"io"
	"net/http"
)

// HTTPClient returns an HTTP client for other routes of the same server.
// To each request for the client's server (same scheme, host and port) it
// adds "Authorization: Bearer <access token>" from AccessToken, replacing
// any such header; requests for other hosts go out untouched, so the token
// never leaves the server it belongs to. When the server answers 401, it
// refreshes once (unless the stored token changed meanwhile, in which case
// it uses that one) and sends the request again if its body can be
// replayed (no body, or GetBody set, as http.NewRequest does for in-memory
// bodies); otherwise the 401 answer is returned. When no token can be had
// (not logged in, session rejected), the request fails with that error,
// which errors.Is matches through the *url.Error.
//
// It shares the transport, Timeout, Jar and CheckRedirect of the client
// given to WithHTTPClient; refreshes go through that client directly.
func (c *Client) HTTPClient() *http.Client {
	base := c.hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	return &http.Client{
		Transport:     &bearerTransport{c: c, base: base},
		CheckRedirect: c.hc.CheckRedirect,
		Jar:           c.hc.Jar,
		Timeout:       c.hc.Timeout,
	}
}

type bearerTransport struct {
	c    *Client
	base http.RoundTripper
}

func (t *bearerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL == nil || originOf(req.URL) != t.c.origin {
		return t.base.RoundTrip(req)
	}
	ctx := req.Context()
	token, err := t.c.AccessToken(ctx)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	resp, err := t.base.RoundTrip(withBearer(req, token))
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}

	// The server refused the token: revoked, or our clock is behind.
	// Refresh once (unless the stored token changed meanwhile), and send
	// the request again if its body can be replayed.
	fresh, err := t.c.shared(ctx, "rejected\x00"+token, func(ctx context.Context) (Tokens, error) {
		return t.c.rotate(ctx, func(cur Tokens) bool { return cur.Access == token })
	})
	if err != nil {
		drain(resp)
		return nil, err
	}
	hasBody := req.Body != nil && req.Body != http.NoBody
	if fresh.Access == token || (hasBody && req.GetBody == nil) {
		return resp, nil
	}
	retry := withBearer(req, fresh.Access)
	if hasBody {
		body, err := req.GetBody()
		if err != nil {
			return resp, nil
		}
		retry.Body = body
	}
	drain(resp)
	return t.base.RoundTrip(retry)
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the
// base transport.
func (t *bearerTransport) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// withBearer returns a copy of req (RoundTrip must not change req) with
// the token set.
func withBearer(req *http.Request, token string) *http.Request {
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+token)
	return r
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
}
