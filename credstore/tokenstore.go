package credstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/dyor-exchange/dyorctl/client"
)

// serverStore is the client.TokenStore of one server's active account.
type serverStore struct {
	s      *Store
	server string
	err    error // from normalising the server URL
}

func (ss *serverStore) Load(ctx context.Context) (client.Tokens, error) {
	if ss.err != nil {
		return client.Tokens{}, ss.err
	}
	if err := ctx.Err(); err != nil {
		return client.Tokens{}, err
	}
	st, err := ss.s.read()
	if err != nil {
		return client.Tokens{}, err
	}
	t, ok := st.active(ss.server)
	if !ok {
		return client.Tokens{}, fmt.Errorf("%w on %s", ErrNoActive, ss.server)
	}
	return t, nil
}

func (ss *serverStore) Save(ctx context.Context, t client.Tokens) error {
	if t.IsZero() {
		return ss.Delete(ctx)
	}
	if ss.err != nil {
		return ss.err
	}
	t, err := checked(t)
	if err != nil {
		return err
	}
	return ss.s.change(ctx, func(st *state) (bool, error) {
		st.put(ss.server, t)
		return true, nil
	})
}

func (ss *serverStore) Delete(ctx context.Context) error {
	if ss.err != nil {
		return ss.err
	}
	return ss.s.change(ctx, func(st *state) (bool, error) {
		cur, ok := st.active(ss.server)
		return ok && st.remove(ss.server, cur.Username), nil
	})
}

func (ss *serverStore) Update(ctx context.Context, fn func(current client.Tokens) (client.Tokens, error)) (client.Tokens, error) {
	if ss.err != nil {
		return client.Tokens{}, ss.err
	}
	var cur, after client.Tokens
	writeFailed, err := ss.s.changeReporting(ctx, func(st *state) (bool, error) {
		cur, _ = st.active(ss.server)
		after = cur
		next, fnErr := fn(cur)
		switch {
		case next.IsZero():
			if cur.IsZero() {
				return false, fnErr
			}
			after = client.Tokens{}
			return st.remove(ss.server, cur.Username), fnErr
		case next.Access == cur.Access && next.Refresh == cur.Refresh &&
			(next.Username == cur.Username || next.Username == ""):
			return false, fnErr
		}
		if next.Username == "" {
			next.Username = cur.Username
		}
		next, err := checked(next)
		if err != nil {
			return false, errors.Join(fnErr, err)
		}
		st.put(ss.server, next)
		after = next
		return true, fnErr
	})
	if writeFailed {
		after = cur // what is still stored
	}
	return after, err
}

// checked returns t with its claims read from its tokens, or an error if
// they cannot be, so that nothing unreadable is ever written.
func checked(t client.Tokens) (client.Tokens, error) {
	if t.Username == "" {
		return client.Tokens{}, errors.New("credstore: tokens without a username cannot be stored")
	}
	p, err := client.ParseTokens(t.Access, t.Refresh)
	if err != nil {
		return client.Tokens{}, fmt.Errorf("credstore: not storing tokens that cannot be read: %w", err)
	}
	p.Username = t.Username
	p.ClockOffset = t.ClockOffset
	return p, nil
}
