package client_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dyor-exchange/dyorctl/client"
	"github.com/dyor-exchange/dyorctl/mock"
)

// protectedFront serves the mock's API at the same origin as /protected, a
// route that answers 401 unless its check accepts the Authorization header.
type protectedFront struct {
	*httptest.Server
	mu      sync.Mutex
	check   func(auth string) bool
	seen    []string // Authorization headers /protected got
	bodies  []string
	other   *httptest.Server // another host
	otherMu sync.Mutex
	otherAu []string
}

// refusingFront is a logged-in client of a front that refuses every token.
func refusingFront(t *testing.T) (*mock.Server, *protectedFront, *client.Client) {
	t.Helper()
	srv := startMock(t)
	front := newProtectedFront(t, srv)
	front.accept(nil)
	c := loggedIn(t, srv, mint(t, srv, 0, 0))
	c, _ = client.New(front.URL, client.WithTokenStore(c.Store()), client.WithClock(srv.Now))
	return srv, front, c
}

func newProtectedFront(t *testing.T, srv *mock.Server) *protectedFront {
	f := &protectedFront{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/protected" {
			srv.Handler().ServeHTTP(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		defer f.mu.Unlock()
		auth := r.Header.Get("Authorization")
		f.seen = append(f.seen, auth)
		f.bodies = append(f.bodies, string(body))
		if f.check == nil || !f.check(auth) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = io.WriteString(w, "secret stuff")
	}))
	f.other = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.otherMu.Lock()
		f.otherAu = append(f.otherAu, r.Header.Get("Authorization"))
		f.otherMu.Unlock()
	}))
	t.Cleanup(f.Close)
	t.Cleanup(f.other.Close)
	return f
}

func (f *protectedFront) accept(check func(auth string) bool) {
	f.mu.Lock()
	f.check = check
	f.mu.Unlock()
}

func only(tok string) func(string) bool { return func(a string) bool { return a == "Bearer "+tok } }
func anyBut(tok string) func(string) bool {
	return func(a string) bool { return strings.HasPrefix(a, "Bearer ") && a != "Bearer "+tok }
}

func TestHTTPClientAddsTheToken(t *testing.T) {
	t.Parallel()
	srv := startMock(t)
	front := newProtectedFront(t, srv)
	tok := mint(t, srv, 0, 0)
	front.accept(only(tok.Access))
	store := client.NewMemoryStore()
	_ = store.Save(t.Context(), tok)
	c, err := client.New(front.URL, client.WithTokenStore(store), client.WithClock(srv.Now))
	if err != nil {
		t.Fatal(err)
	}
	hc := c.HTTPClient()

	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, front.URL+"/protected", nil)
	req.Header.Set("Authorization", "Bearer not-this-one")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "secret stuff" {
		t.Errorf("GET /protected = %s %q", resp.Status, body)
	}
	if req.Header.Get("Authorization") != "Bearer not-this-one" {
		t.Error("the caller's request was changed")
	}

	// Same host spelled differently is the same server.
	resp, err = hc.Get(strings.Replace(front.URL, "http://", "HTTP://", 1) + "/protected")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("upper-case scheme: %s", resp.Status)
	}

	// Another host never sees the token.
	resp, err = hc.Get(front.other.URL + "/anything")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	front.otherMu.Lock()
	defer front.otherMu.Unlock()
	if len(front.otherAu) != 1 || front.otherAu[0] != "" {
		t.Errorf("other host got Authorization %q, want none", front.otherAu)
	}
}

// TestHTTPClientRefreshesOnceOn401: the server rejects a token the client
// thinks fresh (its clock is behind); the client refreshes once and sends
// the request again, body and all.
func TestHTTPClientRefreshesOnceOn401(t *testing.T) {
	t.Parallel()

	t.Run("against the mock's logout", func(t *testing.T) {
		t.Parallel()
		srv := startMock(t, allowing(mock.FindingExpiredToken)) // the clocks are set apart
		tok := mint(t, srv, 10*time.Minute, 0)
		c := loggedIn(t, srv, tok, client.WithClock(time.Now))
		_ = srv.Advance(11 * time.Minute) // the server finds the access token expired
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodDelete, srv.URL+mock.LogoutPath, nil)
		resp, err := c.HTTPClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("DELETE logout through HTTPClient: %s", resp.Status)
		}
		var got []string
		for _, r := range srv.Requests() {
			got = append(got, r.Method+" "+r.Path+" "+http.StatusText(r.Status))
		}
		want := []string{
			"DELETE " + mock.LogoutPath + " Unauthorized",
			"GET " + mock.RefreshPath + " OK",
			"DELETE " + mock.LogoutPath + " OK",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if len(srv.Sessions()) != 0 {
			t.Error("the rotated session was not logged out")
		}
	})

	t.Run("replays the body", func(t *testing.T) {
		t.Parallel()
		srv := startMock(t)
		front := newProtectedFront(t, srv)
		tok := mint(t, srv, 0, 0)
		c := loggedIn(t, srv, tok)
		c, _ = client.New(front.URL, client.WithTokenStore(c.Store()), client.WithClock(srv.Now))
		front.accept(anyBut(tok.Access)) // as if the server had revoked it
		resp, err := c.HTTPClient().Post(front.URL+"/protected", "text/plain", strings.NewReader("payload"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		front.mu.Lock()
		defer front.mu.Unlock()
		if resp.StatusCode != 200 || len(front.seen) != 2 || front.bodies[0] != "payload" || front.bodies[1] != "payload" {
			t.Errorf("%s after bodies %q; want 200 after a retry with the body", resp.Status, front.bodies)
		}
		if n := len(requests(srv, mock.RefreshPath)); n != 1 {
			t.Errorf("%d refreshes, want 1", n)
		}
	})

	t.Run("still 401 after the refresh: no second refresh", func(t *testing.T) {
		t.Parallel()
		srv, front, c := refusingFront(t)
		resp, err := c.HTTPClient().Get(front.URL + "/protected")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Errorf("status %s, want the 401", resp.Status)
		}
		front.mu.Lock()
		defer front.mu.Unlock()
		if len(front.seen) != 2 || front.seen[0] == front.seen[1] {
			t.Errorf("protected route saw %d requests, want 2 with different tokens", len(front.seen))
		}
		if n := len(requests(srv, mock.RefreshPath)); n != 1 {
			t.Errorf("%d refreshes, want 1", n)
		}
	})

	t.Run("body that cannot be replayed is not sent again", func(t *testing.T) {
		t.Parallel()
		_, front, c := refusingFront(t)
		req, _ := http.NewRequest(http.MethodPost, front.URL+"/protected", io.NopCloser(strings.NewReader("once")))
		req.GetBody = nil
		resp, err := c.HTTPClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		front.mu.Lock()
		defer front.mu.Unlock()
		if resp.StatusCode != 401 || len(front.seen) != 1 {
			t.Errorf("status %s after %d requests, want the first 401", resp.Status, len(front.seen))
		}
	})
}

func TestHTTPClientWithoutSession(t *testing.T) {
	t.Parallel()

	t.Run("not logged in", func(t *testing.T) {
		t.Parallel()
		srv := startMock(t)
		c, _ := client.New(srv.URL)
		_, err := c.HTTPClient().Get(srv.URL + mock.LogoutPath)
		checkSentinels(t, err, "ErrNotLoggedIn")
		if len(srv.Requests()) != 0 {
			t.Error("a request was sent")
		}
	})

	t.Run("session revoked", func(t *testing.T) {
		t.Parallel()
		srv := startMock(t)
		tok := mint(t, srv, 0, 0)
		c := loggedIn(t, srv, tok)
		_ = srv.RevokeSession(tok.SessionID)
		req, _ := http.NewRequest(http.MethodDelete, srv.URL+mock.LogoutPath, nil)
		_, err := c.HTTPClient().Do(req)
		checkSentinels(t, err, "ErrSessionInvalid")
		if _, err := c.Tokens(t.Context()); !errors.Is(err, client.ErrNotLoggedIn) {
			t.Errorf("stored tokens not removed: %v", err)
		}
	})
}

// TestHTTPClientConcurrent401sRefreshOnce: many requests rejected at once
// share one refresh.
func TestHTTPClientConcurrent401sRefreshOnce(t *testing.T) {
	t.Parallel()
	srv := startMock(t)
	front := newProtectedFront(t, srv)
	tok := mint(t, srv, 0, 0)
	front.accept(anyBut(tok.Access))
	c := loggedIn(t, srv, tok)
	c, _ = client.New(front.URL, client.WithTokenStore(c.Store()), client.WithClock(srv.Now))
	hc := c.HTTPClient()

	const n = 20
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			resp, err := hc.Get(front.URL + "/protected")
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		})
	}
	wg.Wait()
	for i, s := range statuses {
		if s != 200 {
			t.Errorf("request %d: status %d", i, s)
		}
	}
	if n := len(requests(srv, mock.RefreshPath)); n != 1 {
		t.Errorf("%d refreshes, want 1", n)
	}
}
