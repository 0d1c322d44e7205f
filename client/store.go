package client

import (
	"context"
	"sync"
)

// TokenStore keeps the tokens of one account of one server. The Client
// reads and replaces them only through Update when a refresh is involved, so
// a store that serialises Update (across processes, for a file) guarantees
// that a refresh token is presented at most once.
//
// NewMemoryStore is the default; package credstore has the file store that
// dyorctl uses.
type TokenStore interface {
	// Load returns the stored tokens, or an error matching ErrNotLoggedIn
	// when there are none.
	Load(ctx context.Context) (Tokens, error)
	// Save stores t, replacing what was there (for the file store: the
	// entry of t.Username, made the active one).
	Save(ctx context.Context, t Tokens) error
	// Delete removes the stored tokens (no error if there were none).
	Delete(ctx context.Context) error
	// Update runs fn on the current tokens (zero Tokens if none) while
	// holding the store's lock (a cross-process lock for the file store,
	// which re-reads the file after taking it), then: if fn returned zero
	// Tokens the stored entry is removed; if it returned non-zero tokens
	// that differ from current they are saved (atomically) before Update
	// returns. fn's error is returned either way. Update returns what is
	// stored afterwards.
	Update(ctx context.Context, fn func(current Tokens) (Tokens, error)) (Tokens, error)
}

// NewMemoryStore returns a TokenStore that keeps the tokens in memory, for
// this process only. It is the default of New.
func NewMemoryStore() TokenStore {
	return &memoryStore{sem: make(chan struct{}, 1)}
}

type memoryStore struct {
	// sem serialises Save, Delete and Update (held while fn runs, which may
	// take a network round trip); a channel so that waiting honours ctx.
	sem chan struct{}
	// mu guards t only, so that Load never waits for an Update in progress.
	mu sync.Mutex
	t  Tokens
}

func (m *memoryStore) lock(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case m.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (m *memoryStore) unlock() { <-m.sem }

func (m *memoryStore) get() Tokens {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.t
}

func (m *memoryStore) set(t Tokens) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.t = t
}

func (m *memoryStore) Load(ctx context.Context) (Tokens, error) {
	if err := ctx.Err(); err != nil {
		return Tokens{}, err
	}
	t := m.get()
	if t.IsZero() {
		return Tokens{}, ErrNotLoggedIn
	}
	return t, nil
}

func (m *memoryStore) Save(ctx context.Context, t Tokens) error {
	if err := m.lock(ctx); err != nil {
		return err
	}
	defer m.unlock()
	m.set(t)
	return nil
}

func (m *memoryStore) Delete(ctx context.Context) error {
	if err := m.lock(ctx); err != nil {
		return err
	}
	defer m.unlock()
	m.set(Tokens{})
	return nil
}

func (m *memoryStore) Update(ctx context.Context, fn func(current Tokens) (Tokens, error)) (Tokens, error) {
	if err := m.lock(ctx); err != nil {
		return Tokens{}, err
	}
	defer m.unlock()
	next, err := fn(m.get())
	if next.IsZero() {
		next = Tokens{}
	}
	m.set(next)
	return next, err
}
