// Package storetest checks that a client.TokenStore keeps the contract the
// Client relies on, in the manner of testing/fstest.TestFS: a store author
// calls TestStore from a test, and every rule is a named subtest.
//
//	func TestMyStore(t *testing.T) {
//		storetest.TestStore(t, func(t *testing.T) client.TokenStore { return mystore.New(t.TempDir()) })
//	}
package storetest

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dyor-exchange/dyorctl/client"
)

// TestStore runs every case against a new, empty store from newStore.
func TestStore(t *testing.T, newStore func(t *testing.T) client.TokenStore) {
	cases := []struct {
		name string
		run  func(t *testing.T, s client.TokenStore)
	}{
		{"EmptyLoadIsNotLoggedIn", emptyLoad},
		{"SaveThenLoad", saveThenLoad},
		{"SaveReplaces", saveReplaces},
		{"DeleteRemoves", deleteRemoves},
		{"DeleteOfNothingIsNoError", deleteOfNothing},
		{"UpdateSeesCurrentAndSaves", updateSaves},
		{"UpdateToZeroRemoves", updateToZero},
		{"UpdateReturnsFnError", updateReturnsError},
		{"UpdateSerialises", updateSerialises},
		{"UpdateWaitHonoursContext", updateWaitHonoursContext},
		{"CancelledContextSendsNothing", cancelledContext},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, newStore(t)) })
	}
}

// Tokens returns a readable token pair for user whose session id is sid:
// unsigned JWTs with the claims a server issues (signatures are not
// checked by stores). Stores may refuse tokens whose claims cannot be read,
// so the cases use these.
func Tokens(user, sid string) client.Tokens {
	now := time.Now().Truncate(time.Second)
	jwt := func(typ string, exp time.Time) string {
		h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
		p := base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil,
			`{"iss":"storetest","sub":"acct-%s","sid":%q,"typ":%q,"iat":%d,"exp":%d,"jti":"%s-%s"}`,
			user, sid, typ, now.Unix(), exp.Unix(), sid, typ))
		return h + "." + p + ".c2ln"
	}
	t, err := client.ParseTokens(jwt("access", now.Add(15*time.Minute)), jwt("refresh", now.Add(7*24*time.Hour)))
	if err != nil {
		panic("storetest: " + err.Error())
	}
	t.Username = user
	return t
}

func mustLoad(t *testing.T, s client.TokenStore) client.Tokens {
	t.Helper()
	got, err := s.Load(t.Context())
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return got
}

func wantSame(t *testing.T, what string, got, want client.Tokens) {
	t.Helper()
	if got.Access != want.Access || got.Refresh != want.Refresh || got.Username != want.Username ||
		got.SessionID != want.SessionID || !got.AccessExpiresAt.Equal(want.AccessExpiresAt) ||
		!got.RefreshExpiresAt.Equal(want.RefreshExpiresAt) {
		t.Fatalf("%s: got %v, want %v (tokens equal: %v)", what, got, want, got.Access == want.Access && got.Refresh == want.Refresh)
	}
}

func wantNotLoggedIn(t *testing.T, s client.TokenStore) {
	t.Helper()
	if got, err := s.Load(t.Context()); !errors.Is(err, client.ErrNotLoggedIn) || !got.IsZero() {
		t.Fatalf("Load = %v, %v; want zero Tokens and an error matching client.ErrNotLoggedIn", got, err)
	}
}

func emptyLoad(t *testing.T, s client.TokenStore) { wantNotLoggedIn(t, s) }

func saveThenLoad(t *testing.T, s client.TokenStore) {
	want := Tokens("alice", "s1")
	if err := s.Save(t.Context(), want); err != nil {
		t.Fatalf("Save: %v", err)
	}
	wantSame(t, "Load after Save", mustLoad(t, s), want)
}

func saveReplaces(t *testing.T, s client.TokenStore) {
	if err := s.Save(t.Context(), Tokens("alice", "s1")); err != nil {
		t.Fatal(err)
	}
	want := Tokens("alice", "s2")
	if err := s.Save(t.Context(), want); err != nil {
		t.Fatal(err)
	}
	wantSame(t, "Load after the second Save", mustLoad(t, s), want)
}

func deleteRemoves(t *testing.T, s client.TokenStore) {
	if err := s.Save(t.Context(), Tokens("alice", "s1")); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(t.Context()); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantNotLoggedIn(t, s)
}

func deleteOfNothing(t *testing.T, s client.TokenStore) {
	if err := s.Delete(t.Context()); err != nil {
		t.Fatalf("Delete of an empty store: %v", err)
	}
	wantNotLoggedIn(t, s)
}

func updateSaves(t *testing.T, s client.TokenStore) {
	first, next := Tokens("alice", "s1"), Tokens("alice", "s2")
	if err := s.Save(t.Context(), first); err != nil {
		t.Fatal(err)
	}
	got, err := s.Update(t.Context(), func(cur client.Tokens) (client.Tokens, error) {
		wantSame(t, "Update's current", cur, first)
		return next, nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	wantSame(t, "Update's result", got, next)
	wantSame(t, "Load after Update", mustLoad(t, s), next)

	// On an empty store fn sees zero Tokens.
	if err := s.Delete(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(t.Context(), func(cur client.Tokens) (client.Tokens, error) {
		if !cur.IsZero() {
			t.Errorf("Update on an empty store passed %v", cur)
		}
		return cur, nil
	}); err != nil {
		t.Fatalf("Update on an empty store: %v", err)
	}
	wantNotLoggedIn(t, s)
}

func updateToZero(t *testing.T, s client.TokenStore) {
	if err := s.Save(t.Context(), Tokens("alice", "s1")); err != nil {
		t.Fatal(err)
	}
	got, err := s.Update(t.Context(), func(client.Tokens) (client.Tokens, error) { return client.Tokens{}, nil })
	if err != nil || !got.IsZero() {
		t.Fatalf("Update to zero = %v, %v", got, err)
	}
	wantNotLoggedIn(t, s)
}

func updateReturnsError(t *testing.T, s client.TokenStore) {
	first := Tokens("alice", "s1")
	if err := s.Save(t.Context(), first); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("the refresh failed")
	got, err := s.Update(t.Context(), func(cur client.Tokens) (client.Tokens, error) { return cur, boom })
	if !errors.Is(err, boom) {
		t.Fatalf("Update returned %v, want fn's error", err)
	}
	wantSame(t, "Update's result after fn failed", got, first)
	wantSame(t, "Load after fn failed", mustLoad(t, s), first)
}

// Concurrent Updates run one at a time, each seeing what the one before it
// stored: the guarantee that a refresh token is presented at most once.
func updateSerialises(t *testing.T, s client.TokenStore) {
	if err := s.Save(t.Context(), Tokens("alice", "s0")); err != nil {
		t.Fatal(err)
	}
	const n = 8
	var inside atomic.Int32
	var wg sync.WaitGroup
	seen := make(chan string, n)
	for range n {
		wg.Go(func() {
			_, err := s.Update(context.Background(), func(cur client.Tokens) (client.Tokens, error) {
				if inside.Add(1) != 1 {
					t.Error("two Updates ran at once")
				}
				defer inside.Add(-1)
				seen <- cur.SessionID
				var k int
				fmt.Sscanf(cur.SessionID, "s%d", &k)
				return Tokens("alice", fmt.Sprintf("s%d", k+1)), nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	close(seen)
	got := map[string]bool{}
	for sid := range seen {
		if got[sid] {
			t.Errorf("two Updates saw session %s: one did not see the other's result", sid)
		}
		got[sid] = true
	}
	if final := mustLoad(t, s); final.SessionID != fmt.Sprintf("s%d", n) {
		t.Fatalf("after %d Updates the session is %s, want s%d", n, final.SessionID, n)
	}
}

// An Update waiting for another's lock gives up when its context ends,
// without running fn.
func updateWaitHonoursContext(t *testing.T, s client.TokenStore) {
	if err := s.Save(t.Context(), Tokens("alice", "s1")); err != nil {
		t.Fatal(err)
	}
	holding, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := s.Update(context.Background(), func(cur client.Tokens) (client.Tokens, error) {
			close(holding)
			<-release
			return cur, nil
		})
		done <- err
	}()
	<-holding
	ctx, cancel := context.WithCancel(t.Context())
	waiting := make(chan error, 1)
	go func() {
		_, err := s.Update(ctx, func(cur client.Tokens) (client.Tokens, error) {
			t.Error("fn ran although its context ended while waiting for the lock")
			return cur, nil
		})
		waiting <- err
	}()
	cancel()
	select {
	case err := <-waiting:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("the waiting Update returned %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("an Update waiting for the lock ignored its cancelled context")
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func cancelledContext(t *testing.T, s client.TokenStore) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Save(ctx, Tokens("alice", "s1")); !errors.Is(err, context.Canceled) {
		t.Errorf("Save with a cancelled context = %v", err)
	}
	if _, err := s.Update(ctx, func(cur client.Tokens) (client.Tokens, error) {
		t.Error("Update ran fn with a cancelled context")
		return cur, nil
	}); !errors.Is(err, context.Canceled) {
		t.Errorf("Update with a cancelled context = %v", err)
	}
	wantNotLoggedIn(t, s)
}
