package tui

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/dyor-exchange/dyorctl/client"
	"github.com/dyor-exchange/dyorctl/credstore"
)

// AccountStore is where the app finds every stored account of every server:
// the CLI's credentials file, *credstore.Store. The app uses it in commands,
// never in an update.
type AccountStore interface {
	// Accounts returns every stored account, sorted by server then
	// username.
	Accounts() ([]credstore.Account, error)
	// Switch makes username the active account of server, as "dyorctl
	// switch" does.
	Switch(ctx context.Context, server, username string) error
	// Remove deletes the stored account.
	Remove(ctx context.Context, server, username string) error
	// ForServer is the token store of server's active account: a login
	// saves there and becomes the active account, as "dyorctl login" does.
	ForServer(server string) client.TokenStore
}

// storedAccount is what the app keeps of a stored account: the tokens stay
// in the store, so no view can show them.
type storedAccount struct {
	Active  bool
	Session session // with its Server and Username
}

func storedAccountsOf(list []credstore.Account) []storedAccount {
	out := make([]storedAccount, 0, len(list))
	for _, a := range list {
		s := sessionOf(a.Tokens)
		s.Server, s.Username = a.Server, a.Username
		out = append(out, storedAccount{Active: a.Active, Session: s})
	}
	return out
}

// accountTokens is the token store of one stored account, active or not,
// for its logout: Update gives fn the account's tokens as stored now, and
// removes the account when fn returns none (as Logout's fn always does).
// Logout sends no refresh token to be rotated, so it needs no lock across
// the call; the removal itself is locked by the store.
type accountTokens struct {
	store            AccountStore
	server, username string
}

func (a accountTokens) Load(ctx context.Context) (client.Tokens, error) {
	list, err := a.store.Accounts()
	if err != nil {
		return client.Tokens{}, err
	}
	for _, acc := range list {
		if acc.Server == a.server && acc.Username == a.username {
			return acc.Tokens, nil
		}
	}
	return client.Tokens{}, fmt.Errorf("%w: no stored account %s on %s", client.ErrNotLoggedIn, a.username, a.server)
}

func (a accountTokens) Save(ctx context.Context, t client.Tokens) error {
	return fmt.Errorf("tui: the tokens of %s are only ever removed here", a.username)
}

func (a accountTokens) Delete(ctx context.Context) error {
	return a.store.Remove(ctx, a.server, a.username)
}

func (a accountTokens) Update(ctx context.Context, fn func(client.Tokens) (client.Tokens, error)) (client.Tokens, error) {
	cur, err := a.Load(ctx)
	if err != nil && !isNotLoggedIn(err) {
		return client.Tokens{}, err
	}
	next, fnErr := fn(cur)
	if !next.IsZero() {
		return cur, fnErr // not a logout: nothing is written
	}
	if cur.IsZero() {
		return client.Tokens{}, fnErr
	}
	if err := a.Delete(ctx); err != nil && fnErr == nil {
		return cur, err
	}
	return client.Tokens{}, fnErr
}

// memoryAccounts is the AccountStore of a lone client (Options.Client
// without Options.Accounts, as the demo runs): one account at most per
// server, in the client's store for its own server and in memory for any
// other, for this run only.
type memoryAccounts struct {
	mu     sync.Mutex
	stores map[string]client.TokenStore
}

func newMemoryAccounts(c *client.Client) *memoryAccounts {
	return &memoryAccounts{stores: map[string]client.TokenStore{c.BaseURL(): c.Store()}}
}

func (m *memoryAccounts) Accounts() ([]credstore.Account, error) {
	m.mu.Lock()
	stores := make(map[string]client.TokenStore, len(m.stores))
	for k, v := range m.stores {
		stores[k] = v
	}
	m.mu.Unlock()
	var list []credstore.Account
	for server, st := range stores {
		t, err := st.Load(context.Background())
		if isNotLoggedIn(err) {
			continue
		} else if err != nil {
			return nil, err
		}
		list = append(list, credstore.Account{Server: server, Username: t.Username, Active: true, Tokens: t})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Server < list[j].Server })
	return list, nil
}

func (m *memoryAccounts) Switch(ctx context.Context, server, username string) error {
	t, err := m.ForServer(server).Load(ctx)
	if err != nil || t.Username != username {
		return fmt.Errorf("%w: no stored account %s on %s", client.ErrNotLoggedIn, username, server)
	}
	return nil // the one account is the active one
}

func (m *memoryAccounts) Remove(ctx context.Context, server, username string) error {
	st := m.ForServer(server)
	if t, err := st.Load(ctx); err == nil && t.Username == username {
		return st.Delete(ctx)
	}
	return nil
}

func (m *memoryAccounts) ForServer(server string) client.TokenStore {
	m.mu.Lock()
	defer m.mu.Unlock()
	st, ok := m.stores[server]
	if !ok {
		st = client.NewMemoryStore()
		m.stores[server] = st
	}
	return st
}

var _ AccountStore = (*credstore.Store)(nil)
