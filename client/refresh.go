package client

import (
	"context"
	"fmt"
	"time"
)

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
// after the refresh margin, otherwise a new one from a refresh made as the
// package doc's "Refreshing" says (see Refresh for what happens when that
// fails).
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
		if !cur.Refreshable(cur.ServerNow(c.now())) {
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
