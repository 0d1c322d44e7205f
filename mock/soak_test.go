package mock

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dyor-exchange/dyorctl/api"
)

// TestSoak runs a mixed load for a bounded time (DYORMOCK_SOAK, default
// 3s, 300 ms with -short) — registering, logging in, refreshing, reusing old refresh tokens on
// purpose, logging out, with clock advances and sweeps interleaved — and
// checks the invariants throughout: every refresh token is accepted once
// or refused with the right code, a reuse revokes exactly its chain, the
// server holds exactly the sessions and tombstones the workers expect, and
// after everything expires and a sweep runs, nothing is left and the
// goroutines are back to their count before the server started.
func TestSoak(t *testing.T) {
	d := 3 * time.Second
	if testing.Short() {
		d = 300 * time.Millisecond // the same checks after less load
	}
	if v := os.Getenv("DYORMOCK_SOAK"); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			t.Fatal(err)
		}
	}
	goroutinesBefore := runtime.NumGoroutine()
	s := NewServer(WithBcryptCost(4), WithNoSeed(), WithAccessTTL(time.Hour), WithRefreshTTL(2*time.Hour), WithLockout(0, 0))
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}, Timeout: 10 * time.Second}

	call := func(method, path, auth, body string) (int, api.Code, string) {
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, _ := http.NewRequest(method, s.URL+path, rd)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Errorf("%s %s: %v", method, path, err)
			return 0, 0, ""
		}
		defer resp.Body.Close()
		var env struct {
			Result struct {
				Token struct{ Access, Refresh string }
			}
			Error struct{ Code api.Code }
		}
		b, _ := io.ReadAll(resp.Body)
		_ = json.Unmarshal(b, &env)
		return resp.StatusCode, env.Error.Code, env.Result.Token.Refresh + " " + env.Result.Token.Access
	}

	deadline := time.Now().Add(d)
	var (
		refreshes atomic.Int64 // successful rotations: each leaves a tombstone
		alive     atomic.Int64 // chains whose session should be live at the end
		stop      = make(chan struct{})
		bg        sync.WaitGroup
	)
	// The clock moves forward in small steps (at most 20 minutes in all,
	// well inside both TTLs), and sweeps run meanwhile.
	bg.Go(func() {
		var moved time.Duration
		for {
			select {
			case <-stop:
				return
			default:
			}
			if moved < 20*time.Minute {
				if err := s.Advance(time.Second); err != nil {
					t.Error(err)
				}
				moved += time.Second
			}
			if n := s.Sweep(); n != 0 {
				t.Errorf("a sweep removed %d sessions before anything expired", n)
			}
			runtime.Gosched()
		}
	})

	const workers = 8
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 42))
			user := fmt.Sprintf("soak-%d", w)
			creds := fmt.Sprintf(`{"username":%q,"password":"password-%d"}`, user, w)
			if st, code, _ := call("POST", RegisterPath, "", creds); st != 200 {
				t.Errorf("register %s: %d %d", user, st, code)
				return
			}
			for time.Now().Before(deadline) {
				st, _, pair := call("POST", LoginPath, "", creds)
				if st != 200 {
					t.Errorf("login: %d", st)
					return
				}
				current, _, _ := strings.Cut(pair, " ")
				var used []string
				live := true
				for step := 0; step < 6 && live; step++ {
					switch r := rng.IntN(10); {
					case r < 6: // refresh the current token: accepted exactly once
						st, code, pair := call("GET", RefreshPath, current, "")
						if st != 200 {
							t.Errorf("refresh of a live chain: %d %d", st, code)
							return
						}
						refreshes.Add(1)
						used = append(used, current)
						current, _, _ = strings.Cut(pair, " ")
						if rng.IntN(4) > 0 {
							continue
						}
						// Present the token just rotated again: refused, and
						// as a reuse it revokes the chain's newest session.
						if st, code, _ := call("GET", RefreshPath, used[len(used)-1], ""); st != 401 || code != CodeSessionNotFound {
							t.Errorf("second use of a refresh token: %d %d", st, code)
						}
						live = false
						if st, code, _ := call("GET", RefreshPath, current, ""); code != CodeSessionNotFound {
							t.Errorf("the chain's newest token after a reuse: %d %d", st, code)
						}
					case r < 8 && len(used) > 0: // reuse an old one on purpose
						old := used[rng.IntN(len(used))]
						if st, code, _ := call("GET", RefreshPath, old, ""); code != CodeSessionNotFound {
							t.Errorf("reuse: %d %d", st, code)
						}
						live = false
						if st, code, _ := call("DELETE", LogoutPath, current, ""); code != CodeSessionNotFound {
							t.Errorf("logout after reuse: %d %d", st, code)
						}
					case r < 9: // log out
						if st, code, _ := call("DELETE", LogoutPath, current, ""); st != 200 {
							t.Errorf("logout of a live chain: %d %d", st, code)
						}
						live = false
						if st, code, _ := call("GET", RefreshPath, current, ""); code != CodeSessionNotFound {
							t.Errorf("refresh after logout: %d %d", st, code)
						}
					default: // keep the chain for the end
						step = 6
					}
				}
				if live {
					alive.Add(1)
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	bg.Wait()
	if t.Failed() {
		s.Close()
		return
	}

	live, tombstones := s.sessions.count()
	if int64(live) != alive.Load() || int64(tombstones) != refreshes.Load() {
		t.Fatalf("server holds %d live sessions and %d tombstones; the workers expect %d and %d",
			live, tombstones, alive.Load(), refreshes.Load())
	}
	t.Logf("%d rotations, %d chains left live, over %v", refreshes.Load(), alive.Load(), d)

	if err := s.Advance(3 * time.Hour); err != nil { // everything expires; Advance sweeps
		t.Fatal(err)
	}
	if live, tombstones := s.sessions.count(); live+tombstones != 0 {
		t.Fatalf("after expiry and a sweep: %d live, %d tombstones", live, tombstones)
	}
	client.CloseIdleConnections()
	s.Close()
	waitFor(t, 5*time.Second, func() bool { return runtime.NumGoroutine() <= goroutinesBefore }, func() string {
		return fmt.Sprintf("%d goroutines, %d before the server", runtime.NumGoroutine(), goroutinesBefore)
	})
}

// waitFor polls cond until it holds or the time is up.
func waitFor(t *testing.T, limit time.Duration, cond func() bool, what func() string) {
	t.Helper()
	for end := time.Now().Add(limit); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal(what())
		}
	}
}
