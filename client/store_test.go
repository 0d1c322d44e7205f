package client_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dyor-exchange/dyorctl/client"
	"github.com/dyor-exchange/dyorctl/mock"
)

func TestMemoryStore(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	now := time.Now()
	a := fakePair(t, now, now.Add(time.Minute), now.Add(time.Hour))
	b := fakePair(t, now, now.Add(2*time.Minute), now.Add(2*time.Hour))
	s := client.NewMemoryStore()

	if _, err := s.Load(ctx); !errors.Is(err, client.ErrNotLoggedIn) {
		t.Fatalf("Load of an empty store = %v, want ErrNotLoggedIn", err)
	}
	if err := s.Save(ctx, a); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Load(ctx); err != nil || got != a {
		t.Fatalf("Load = %v, %v; want what was saved", got, err)
	}

	fnErr := errors.New("fn failed")
	tests := []struct {
		name      string
		returns   client.Tokens
		err       error
		wantAfter client.Tokens
	}{
		{"unchanged", a, nil, a},
		{"replaced, with an error", b, fnErr, b},
		{"removed", client.Tokens{}, fnErr, client.Tokens{}},
		{"put back", a, nil, a},
	}
	for _, tt := range tests {
		after, err := s.Update(ctx, func(client.Tokens) (client.Tokens, error) {
			return tt.returns, tt.err
		})
		if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
			t.Errorf("%s: Update error = %v, want %v", tt.name, err, tt.err)
		}
		if after != tt.wantAfter {
			t.Errorf("%s: Update returned %v, want %v", tt.name, after, tt.wantAfter)
		}
		if got, _ := s.Load(ctx); got != tt.wantAfter {
			t.Errorf("%s: stored %v, want %v", tt.name, got, tt.wantAfter)
		}
	}

	if err := s.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx); err != nil {
		t.Errorf("Delete of an empty store: %v", err)
	}
	if _, err := s.Load(ctx); !errors.Is(err, client.ErrNotLoggedIn) {
		t.Errorf("Load after Delete = %v", err)
	}
}

// TestMemoryStoreUpdateHonoursContext: waiting for another Update ends
// with the context, and Load does not wait at all.
func TestMemoryStoreUpdateHonoursContext(t *testing.T) {
	t.Parallel()
	now := time.Now()
	a := fakePair(t, now, now.Add(time.Minute), now.Add(time.Hour))
	s := client.NewMemoryStore()
	_ = s.Save(t.Context(), a)

	inside, release := make(chan struct{}), make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = s.Update(context.Background(), func(cur client.Tokens) (client.Tokens, error) {
			close(inside)
			<-release
			return cur, nil
		})
	}()
	<-inside

	if got, err := s.Load(t.Context()); err != nil || got != a {
		t.Errorf("Load during an Update = %v, %v", got, err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	_, err := s.Update(ctx, func(cur client.Tokens) (client.Tokens, error) {
		t.Error("fn ran without the lock")
		return cur, nil
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Update while locked = %v, want context.DeadlineExceeded", err)
	}
	if err := s.Save(ctx, a); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Save while locked = %v, want context.DeadlineExceeded", err)
	}
	close(release)
	<-done
}

// refusingStore is a store that cannot write: its Update fails before it
// runs fn, as credstore's does on a full disk.
type refusingStore struct{ client.TokenStore }

var errCannotWrite = errors.New("cannot write the store")

func (refusingStore) Update(context.Context, func(client.Tokens) (client.Tokens, error)) (client.Tokens, error) {
	return client.Tokens{}, errCannotWrite
}

// TestLoginAsksTheStoreFirst: Login sends its request from inside the
// store's Update, so a store that cannot save stops it before the server
// creates a session nobody would store.
func TestLoginAsksTheStoreFirst(t *testing.T) {
	t.Parallel()
	srv := startMock(t)
	c, err := client.New(srv.URL, client.WithTokenStore(refusingStore{client.NewMemoryStore()}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Login(t.Context(), mock.ExampleUsername, mock.ExamplePassword); !errors.Is(err, errCannotWrite) {
		t.Fatalf("Login = %v, want the store's error", err)
	}
	if n := len(requests(srv, "/api/v1/account/login")); n != 0 {
		t.Errorf("%d login requests reached the server", n)
	}
	if s := srv.Sessions(); len(s) != 0 {
		t.Errorf("the server holds %d sessions", len(s))
	}
}
