package mock

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dyor-exchange/dyorctl/api"
)

// login posts credentials to h and returns the status and the code.
func loginVia(t *testing.T, h http.Handler, username, password string) (status int, code api.Code) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"username": username, "password": password})
	r := httptest.NewRequest("POST", LoginPath, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var env struct {
		Error *struct{ Code api.Code } `json:"error"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil {
		t.Fatalf("login answer is not JSON: %s", w.Body)
	}
	if env.Error != nil {
		code = env.Error.Code
	}
	return w.Code, code
}

func newTestServer(t *testing.T, opts ...Option) *Server {
	t.Helper()
	s, err := New(append([]Option{WithBcryptCost(4)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// A new server pays no bcrypt for its seeds; the first login with the
// seed's password makes the hash, and the checks are those of any account.
func TestSeedsAreHashedOnFirstUse(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, WithSeed("alice", "password1"), WithSeed("bob", "password2"))
	if n := s.accounts.bcrypts.Load(); n != 0 {
		t.Fatalf("New ran bcrypt %d times", n)
	}
	acc := s.accounts.lookup("alice")
	if acc.hash != nil || acc.seed == nil {
		t.Fatal("alice's hash was made at start")
	}
	if st, code := loginVia(t, s, "alice", "password2"); st != 401 || code != CodeWrongPassword {
		t.Fatalf("alice with bob's password: %d %d", st, code)
	}
	if acc.hash == nil || acc.seed != nil {
		t.Fatal("the first login did not make alice's hash, or kept her password")
	}
	if st, _ := loginVia(t, s, "alice", "password1"); st != 200 {
		t.Fatalf("alice's own password: %d", st)
	}
	if st, code := loginVia(t, s, "bob", "password1"); st != 401 || code != CodeWrongPassword {
		t.Fatalf("bob with alice's password: %d %d", st, code)
	}
	if st, _ := loginVia(t, s, "bob", "password2"); st != 200 {
		t.Fatalf("bob's own password: %d", st)
	}
	if a := s.accounts.lookup("bob"); !bytes.HasPrefix(a.hash, []byte("$2a$04$")) {
		t.Fatalf("bob's hash %q is not bcrypt at the server's cost", a.hash)
	}
}

// Concurrent first logins of a seed make one hash, and all of them agree.
func TestSeedHashConcurrentFirstLogins(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, WithLoginCache(false))
	var wg sync.WaitGroup
	statuses := make([]int, 8)
	for i := range statuses {
		wg.Go(func() {
			pw := ExamplePassword
			if i%2 == 1 {
				pw = "wrong-password"
			}
			statuses[i], _ = loginVia(t, s, ExampleUsername, pw)
		})
	}
	wg.Wait()
	for i, st := range statuses {
		if want := []int{200, 401}[i%2]; st != want {
			t.Errorf("login %d: %d, want %d", i, st, want)
		}
	}
	if n := s.accounts.bcrypts.Load(); n != int64(len(statuses)) {
		t.Errorf("%d logins ran bcrypt %d times: want one each (the first making the hash)", len(statuses), n)
	}
}

// The login cache: a repeated good password skips bcrypt; a wrong one
// always pays it and counts toward lockout; a reset forgets.
func TestLoginCache(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, WithLockout(3, time.Minute))
	for range 5 {
		if st, _ := loginVia(t, s, ExampleUsername, ExamplePassword); st != 200 {
			t.Fatalf("login: %d", st)
		}
	}
	if n, hits := s.accounts.bcrypts.Load(), s.accounts.cacheHit.Load(); n != 1 || hits != 4 {
		t.Fatalf("5 good logins: %d bcrypt, %d cache hits; want 1 and 4", n, hits)
	}
	for i := range 3 {
		st, code := loginVia(t, s, ExampleUsername, ExamplePassword+"x")
		if st != 401 || code != CodeWrongPassword {
			t.Fatalf("wrong password %d after cached successes: %d %d", i, st, code)
		}
	}
	if n := s.accounts.bcrypts.Load(); n != 4 {
		t.Fatalf("wrong passwords ran bcrypt %d times in all, want 1+3", n)
	}
	// The third wrong password locked the account: the cached one is refused too.
	if st, code := loginVia(t, s, ExampleUsername, ExamplePassword); st != 403 || code != CodeAccountLocked {
		t.Fatalf("cached password on a locked account: %d %d", st, code)
	}
	s.Reset()
	if st, _ := loginVia(t, s, ExampleUsername, ExamplePassword); st != 200 {
		t.Fatalf("login after reset: %d", st)
	}
	if n := s.accounts.bcrypts.Load(); n != 5 {
		t.Fatalf("the first login after a reset did not pay bcrypt (%d in all)", n)
	}
}

// A cache entry belongs to one hash: an account whose hash changes (a
// password change, an account registered again) does not accept the old
// password through the cache.
func TestLoginCacheFollowsTheHash(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, WithSeed("alice", "password1"))
	if st, _ := loginVia(t, s, "alice", "password1"); st != 200 {
		t.Fatal(st)
	}
	fresh := newTestServer(t, WithSeed("alice", "password2"))
	if st, _ := loginVia(t, fresh, "alice", "password2"); st != 200 {
		t.Fatal(st)
	}
	acc := s.accounts.lookup("alice")
	s.accounts.mu.Lock()
	acc.hash = fresh.accounts.lookup("alice").hash // as a password change would
	s.accounts.mu.Unlock()
	if st, code := loginVia(t, s, "alice", "password1"); st != 401 || code != CodeWrongPassword {
		t.Fatalf("old password after the hash changed: %d %d", st, code)
	}
	if st, _ := loginVia(t, s, "alice", "password2"); st != 200 {
		t.Fatalf("new password: %d", st)
	}
}

func TestLoginCacheOff(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, WithLoginCache(false))
	for range 3 {
		if st, _ := loginVia(t, s, ExampleUsername, ExamplePassword); st != 200 {
			t.Fatal(st)
		}
	}
	if n, hits := s.accounts.bcrypts.Load(), s.accounts.cacheHit.Load(); n != 3 || hits != 0 {
		t.Fatalf("3 logins without the cache: %d bcrypt, %d hits", n, hits)
	}
}

// The cache's digest and the seed's password never leave memory: not in
// the state file, the journal or the control plane.
func TestLoginCacheStaysInMemory(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.json")
	s := newTestServer(t, WithStateFile(path, 0))
	for range 2 {
		if st, _ := loginVia(t, s, ExampleUsername, ExamplePassword); st != 200 {
			t.Fatal(st)
		}
	}
	acc := s.accounts.lookup(ExampleUsername)
	if !acc.hasVerified {
		t.Fatal("no cache entry after a good login")
	}
	d := acc.verified[:]
	secrets := []string{string(d), hex.EncodeToString(d), base64.StdEncoding.EncodeToString(d),
		base64.RawURLEncoding.EncodeToString(d), ExamplePassword}
	if err := s.SaveState(); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var seen strings.Builder
	seen.Write(file)
	for _, p := range []string{"/_mock/accounts", "/_mock/requests", "/_mock/sessions"} {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, httptest.NewRequest("GET", p, nil))
		seen.Write(w.Body.Bytes())
	}
	for _, secret := range secrets {
		if strings.Contains(seen.String(), secret) {
			t.Fatalf("a secret of the login cache (%q) left memory", secret)
		}
	}
}

// A state save hashes the seeds that were never used: the file holds a
// hash, never a password, and the account keeps its id across a restart.
func TestStateSaveHashesPendingSeeds(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.json")
	s, err := New(WithBcryptCost(4), WithStateFile(path, 0))
	if err != nil {
		t.Fatal(err)
	}
	id := s.accounts.lookup(ExampleUsername).id
	s.Close()
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(file, []byte(ExamplePassword)) || !bytes.Contains(file, []byte(`"bcrypt_hash":"$2a$04$`)) {
		t.Fatalf("state file: %s", file)
	}
	s2 := newTestServer(t, WithStateFile(path, 0))
	if got := s2.accounts.lookup(ExampleUsername); got == nil || got.id != id || got.hash == nil {
		t.Fatalf("after a restart: %+v, want id %s with its hash", got, id)
	}
	if st, _ := loginVia(t, s2, ExampleUsername, ExamplePassword); st != 200 {
		t.Fatal(st)
	}
}
