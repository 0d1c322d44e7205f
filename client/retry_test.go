package client_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/dyor-exchange/dyorctl/client"
	"github.com/dyor-exchange/dyorctl/mock"
)

// failingDials is an HTTP client whose first n dials fail as a refused
// connection does: the request never reaches the server.
func failingDials(n int32, dials *atomic.Int32) *http.Client {
	var d net.Dialer
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if dials.Add(1) <= n {
				return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
			}
			return d.DialContext(ctx, network, addr)
		},
	}
	return &http.Client{Transport: tr}
}

func TestDialErrorsAreRetried(t *testing.T) {
	t.Parallel()
	for _, route := range []string{"login", "refresh"} {
		t.Run(route, func(t *testing.T) {
			t.Parallel()
			srv := startMock(t)
			var dials atomic.Int32
			tok := mint(t, srv, 0, 0)
			c := loggedIn(t, srv, tok, client.WithHTTPClient(failingDials(2, &dials)))
			var err error
			if route == "login" {
				_, err = c.Login(t.Context(), mock.ExampleUsername, mock.ExamplePassword)
			} else {
				_, err = c.Refresh(t.Context())
			}
			if err != nil {
				t.Fatalf("%s after two refused dials: %v", route, err)
			}
			if got := dials.Load(); got != 3 {
				t.Errorf("%d dials, want 3", got)
			}
			if n := len(requests(srv, "/api/v1/account/"+route)); n != 1 {
				t.Errorf("the server saw %d %s requests, want 1", n, route)
			}
		})
	}
	t.Run("retries off", func(t *testing.T) {
		t.Parallel()
		srv := startMock(t)
		var dials atomic.Int32
		c := loggedIn(t, srv, mint(t, srv, 0, 0), client.WithHTTPClient(failingDials(1, &dials)), client.WithRetries(0))
		if _, err := c.Refresh(t.Context()); !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("Refresh: %v, want the refused connection", err)
		}
		if got := dials.Load(); got != 1 {
			t.Errorf("%d dials, want 1", got)
		}
	})
}

// A refresh whose answer was lost may have rotated the session: it is
// never sent again by the client, whatever the failure.
func TestRefreshIsNeverResent(t *testing.T) {
	t.Parallel()
	faults := map[string]mock.Fault{
		"dropped":             {Route: "refresh", Drop: true, Times: 1},
		"cut short":           {Route: "refresh", Truncate: true, Times: 1},
		"503":                 {Route: "refresh", Status: 503, Times: 1},
		"503 with RetryAfter": {Route: "refresh", Status: 503, Times: 1}, // the header is added below
	}
	for name, fault := range faults {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := startMock(t)
			if err := srv.AddFault(fault); err != nil {
				t.Fatal(err)
			}
			front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if name == "503 with RetryAfter" {
					w.Header().Set("Retry-After", "0")
				}
				srv.ServeHTTP(w, r)
			}))
			t.Cleanup(front.Close)
			tok := mint(t, srv, 0, 0)
			store := client.NewMemoryStore()
			_ = store.Save(t.Context(), tok)
			c, err := client.New(front.URL, client.WithTokenStore(store), client.WithClock(srv.Now))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Refresh(t.Context()); err == nil {
				t.Fatal("Refresh succeeded through the fault")
			}
			if n := len(requests(srv, "/api/v1/account/refresh")); n != 1 {
				t.Errorf("%d refresh requests, want exactly 1", n)
			}
			if kept, err := c.Tokens(t.Context()); err != nil || kept.Refresh != tok.Refresh {
				t.Errorf("after the failed refresh the store holds %v (%v), want the old pair kept", kept, err)
			}
		})
	}
}

// busyFront answers the first n requests with status and Retry-After,
// then hands the rest to srv.
func busyFront(t *testing.T, srv *mock.Server, n int32, status int, retryAfter string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var seen atomic.Int32
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if seen.Add(1) <= n {
			if retryAfter != "" {
				w.Header().Set("Retry-After", retryAfter)
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(`{"ok":false,"error":{"code":` + map[int]string{429: "429000", 503: "503000"}[status] + `,"message":"busy"}}`))
			return
		}
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	return front, &seen
}

func TestBusyLoginWaitsForRetryAfter(t *testing.T) {
	t.Parallel()
	srv := startMock(t)
	front, seen := busyFront(t, srv, 1, 503, "1")
	c, err := client.New(front.URL, client.WithClock(srv.Now))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := c.Login(t.Context(), mock.ExampleUsername, mock.ExamplePassword); err != nil {
		t.Fatalf("Login after one 503: %v", err)
	}
	if waited := time.Since(start); waited < time.Second {
		t.Errorf("Login tried again after %v, before Retry-After's 1 s", waited)
	}
	if got := seen.Load(); got != 2 {
		t.Errorf("%d requests, want 2", got)
	}
}

func TestBusyAnswersThatAreNotRetried(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		status     int
		retryAfter string
		timeout    time.Duration
		call       func(context.Context, *client.Client) error
	}{
		{"register 429 without Retry-After", 429, "", 0, func(ctx context.Context, c *client.Client) error {
			return c.Register(ctx, "someone-new", "password123")
		}},
		{"login 503 asking for longer than 30 s", 503, "120", 0, func(ctx context.Context, c *client.Client) error {
			_, err := c.Login(ctx, mock.ExampleUsername, mock.ExamplePassword)
			return err
		}},
		{"login 503 asking for longer than the deadline", 503, "5", time.Second, func(ctx context.Context, c *client.Client) error {
			_, err := c.Login(ctx, mock.ExampleUsername, mock.ExamplePassword)
			return err
		}},
		{"logout 503 with Retry-After", 503, "0", 0, func(ctx context.Context, c *client.Client) error {
			return c.Logout(ctx)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := startMock(t)
			front, seen := busyFront(t, srv, 1, tt.status, tt.retryAfter)
			store := client.NewMemoryStore()
			_ = store.Save(t.Context(), mint(t, srv, 0, 0))
			c, err := client.New(front.URL, client.WithTokenStore(store), client.WithClock(srv.Now))
			if err != nil {
				t.Fatal(err)
			}
			ctx := t.Context()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			err = tt.call(ctx, c)
			var ae *client.APIError
			if !errors.As(err, &ae) || ae.Status != tt.status {
				t.Errorf("error %v, want the %d answer", err, tt.status)
			}
			if got := seen.Load(); got != 1 {
				t.Errorf("%d requests, want 1", got)
			}
		})
	}
}

// net/http sends a GET again by itself when a connection it reused fails
// before any answer. A refresh on a reused connection whose answer is lost
// must still go out once only.
func TestRefreshOnReusedConnectionIsNotResent(t *testing.T) {
	t.Parallel()
	for _, fault := range []mock.Fault{{Route: "refresh", Drop: true, Times: 1}, {Route: "refresh", Truncate: true, Times: 1}} {
		srv := startMock(t)
		c := loggedIn(t, srv, mint(t, srv, 0, 0))
		// A first refresh leaves a connection in the pool for the second.
		if _, err := c.Refresh(t.Context()); err != nil {
			t.Fatal(err)
		}
		if err := srv.AddFault(fault); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Refresh(t.Context()); err == nil {
			t.Errorf("%+v: the refresh succeeded through the fault", fault)
		}
		if n := len(requests(srv, "/api/v1/account/refresh")); n != 2 {
			t.Errorf("%+v: %d refresh requests, want 2 (one each)", fault, n)
		}
	}
}

// The refresh that net/http may not resend still goes out without a body.
func TestRefreshSendsNoBody(t *testing.T) {
	t.Parallel()
	srv := startMock(t)
	var seen atomic.Value
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/account/refresh" {
			seen.Store(fmt.Sprintf("length %d, encoding %v", r.ContentLength, r.TransferEncoding))
		}
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	store := client.NewMemoryStore()
	_ = store.Save(t.Context(), mint(t, srv, 0, 0))
	c, err := client.New(front.URL, client.WithTokenStore(store), client.WithClock(srv.Now))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := seen.Load(); got != "length 0, encoding []" {
		t.Errorf("the refresh arrived with %v, want no body", got)
	}
}
