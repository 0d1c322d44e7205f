package client_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dyor-exchange/dyorctl/api"
	"github.com/dyor-exchange/dyorctl/client"
	"github.com/dyor-exchange/dyorctl/mock"
)

func TestNewRejectsBadBaseURLs(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{
		"", "www.dyorbackend.tk", "ftp://x.example", "http://", "http:///path", "https://user:pw@x.example",
		"http://x.example/?q=1", "http://x.example/?", "http://x.example/#frag", "http://x.example#",
		"http://x.example:port", "mailto:a@b", "http://[::1", " http://x.example",
	} {
		c, err := client.New(raw)
		if err == nil {
			t.Errorf("New(%q) = %v, nil; want an error", raw, c.BaseURL())
			continue
		}
		if !strings.Contains(err.Error(), "server URL") {
			t.Errorf("New(%q) error = %q, want it to say what is wrong", raw, err)
		}
	}
}

func TestNewNormalisesBaseURL(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"http://127.0.0.1:8080":         "http://127.0.0.1:8080",
		"HTTPS://WWW.DyorBackend.TK/":   "https://www.dyorbackend.tk",
		"https://x.example:443/api//":   "https://x.example/api",
		"http://x.example:80":           "http://x.example",
		"http://[::1]:8080/prefix":      "http://[::1]:8080/prefix",
		"https://x.example/My%20Prefix": "https://x.example/My%20Prefix",
	}
	for raw, want := range tests {
		c, err := client.New(raw)
		if err != nil {
			t.Errorf("New(%q): %v", raw, err)
			continue
		}
		if got := c.BaseURL(); got != want {
			t.Errorf("New(%q).BaseURL() = %q, want %q", raw, got, want)
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opt  client.Option
	}{
		{"nil HTTP client", client.WithHTTPClient(nil)},
		{"empty user agent", client.WithUserAgent(" ")},
		{"user agent with newline", client.WithUserAgent("a\r\nX-Evil: 1")},
		{"nil store", client.WithTokenStore(nil)},
		{"negative margin", client.WithRefreshMargin(-time.Second)},
		{"nil clock", client.WithClock(nil)},
	}
	for _, tt := range tests {
		if _, err := client.New("http://127.0.0.1:1", tt.opt); err == nil {
			t.Errorf("%s: New succeeded, want an error", tt.name)
		}
	}
	store := client.NewMemoryStore()
	c, err := client.New("http://127.0.0.1:1", client.WithTokenStore(store), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Store() != store {
		t.Error("Store() is not the store given")
	}
}

// TestRequestHeaders checks what goes on the wire for each route.
func TestRequestHeaders(t *testing.T) {
	t.Parallel()
	srv := startMock(t)
	type seen struct{ method, path, contentType, accept, userAgent, auth string }
	var mu sync.Mutex
	var got []seen
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, seen{r.Method, r.URL.Path, r.Header.Get("Content-Type"), r.Header.Get("Accept"), r.Header.Get("User-Agent"), r.Header.Get("Authorization")})
		mu.Unlock()
		srv.Handler().ServeHTTP(w, r)
	}))
	defer front.Close()

	c, err := client.New(front.URL+"/", client.WithUserAgent("test-agent/1"), client.WithClock(srv.Now))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := c.Register(ctx, "alice", "password1"); err != nil {
		t.Fatal(err)
	}
	tok, err := c.Login(ctx, "alice", "password1")
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := c.Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	want := []seen{
		{"POST", mock.RegisterPath, "application/json", "application/json", "test-agent/1", ""},
		{"POST", mock.LoginPath, "application/json", "application/json", "test-agent/1", ""},
		{"GET", mock.RefreshPath, "", "application/json", "test-agent/1", "Bearer " + tok.Refresh},
		{"DELETE", mock.LogoutPath, "", "application/json", "test-agent/1", "Bearer " + rotated.Access},
	}
	if len(got) != len(want) {
		t.Fatalf("requests = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("request %d = %+v, want %+v", i, got[i], want[i])
		}
	}

	d, _ := client.New(front.URL)
	_ = d.Register(ctx, "bob-the-agent", "password1")
	if ua := got[len(got)-1].userAgent; !strings.HasPrefix(ua, "dyorctl-sdk/") {
		t.Errorf("default User-Agent = %q, want dyorctl-sdk/…", ua)
	}
}

func TestRegister(t *testing.T) {
	t.Parallel()
	srv := startMock(t)
	c, err := client.New(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, username, password string
		want                     string // sentinel name, "" for success
		wantCode                 api.Code
	}{
		{"new account", "alice", "correct horse", "", 0},
		{"taken", mock.ExampleUsername, "whatever1", "ErrUsernameTaken", 409001},
		{"short username", "al", "correct horse", "ErrInvalidInput", 400002},
		{"short password", "carol", "short", "ErrInvalidInput", 400002},
		{"password over 72 bytes", "dave", strings.Repeat("p", 73), "ErrInvalidInput", 400002},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.Register(t.Context(), tt.username, tt.password)
			checkSentinels(t, err, tt.want)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Register: %v", err)
				}
				return
			}
			var ae *client.APIError
			if !errors.As(err, &ae) || ae.Code != tt.wantCode || ae.Message == "" {
				t.Errorf("Register error = %#v, want code %d with a message", err, tt.wantCode)
			}
			if strings.Contains(err.Error(), tt.password) {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
	if _, err := c.Login(t.Context(), "alice", "correct horse"); err != nil {
		t.Errorf("login to the registered account: %v", err)
	}
}

func TestLogin(t *testing.T) {
	t.Parallel()
	srv := startMock(t, mock.WithLockout(3, time.Hour))
	ctx := t.Context()
	c, err := client.New(srv.URL, client.WithClock(srv.Now))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("success saves the pair", func(t *testing.T) {
		tok, err := c.Login(ctx, mock.ExampleUsername, mock.ExamplePassword)
		if err != nil {
			t.Fatal(err)
		}
		if tok.Username != mock.ExampleUsername || !live(srv, tok.SessionID) {
			t.Errorf("Login = %v: want username set and a live session", tok)
		}
		if acc := srv.Accounts()[0]; tok.Subject != acc.ID {
			t.Errorf("Subject = %q, want the account id %q", tok.Subject, acc.ID)
		}
		now := srv.Now()
		if d := tok.AccessExpiresAt.Sub(now); d < 14*time.Minute || d > 15*time.Minute {
			t.Errorf("access expires in %v, want about 15m", d)
		}
		if !tok.Refreshable(now) || tok.RefreshExpiresAt.Sub(now) < 6*24*time.Hour {
			t.Errorf("refresh expires at %v, want about 7 days from %v", tok.RefreshExpiresAt, now)
		}
		stored, err := c.Tokens(ctx)
		if err != nil || stored != tok {
			t.Errorf("Tokens() = %v, %v; want the login's pair", stored, err)
		}
	})

	for _, tt := range []struct {
		name, username, password string
		want                     string
		wantCode                 api.Code
	}{
		{"no such account", "nobody", "whatever1", "ErrAccountNotFound", 404001},
		{"invalid username", "a b", "whatever1", "ErrInvalidInput", 400002},
		{"wrong password", mock.ExampleUsername, "wrong-pass", "ErrWrongPassword", 401005},
		{"wrong password again", mock.ExampleUsername, "wrong-pass", "ErrWrongPassword", 401005},
		{"third wrong password locks", mock.ExampleUsername, "wrong-pass", "ErrWrongPassword", 401005},
		{"locked even with the right password", mock.ExampleUsername, mock.ExamplePassword, "ErrAccountLocked", 403002},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := c.Tokens(ctx)
			tok, err := c.Login(ctx, tt.username, tt.password)
			checkSentinels(t, err, tt.want)
			var ae *client.APIError
			if !errors.As(err, &ae) || ae.Code != tt.wantCode {
				t.Errorf("Login error = %#v, want code %d", err, tt.wantCode)
			}
			if !tok.IsZero() {
				t.Errorf("Login returned tokens with an error")
			}
			if after, _ := c.Tokens(ctx); after != before {
				t.Errorf("a failed login changed the stored tokens")
			}
		})
	}
}

func TestRefresh(t *testing.T) {
	t.Parallel()

	t.Run("rotates and saves", func(t *testing.T) {
		t.Parallel()
		srv := startMock(t)
		old := mint(t, srv, 0, 0)
		c := loggedIn(t, srv, old)
		tok, err := c.Refresh(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if tok.SessionID == old.SessionID || tok.Refresh == old.Refresh || tok.Username != old.Username {
			t.Errorf("Refresh = %v, want a new session of the same user", tok)
		}
		if live(srv, old.SessionID) || !live(srv, tok.SessionID) {
			t.Errorf("sessions = %+v: want only the new one", srv.Sessions())
		}
		if stored, _ := c.Tokens(t.Context()); stored != tok {
			t.Errorf("stored %v, want %v", stored, tok)
		}
	})

	t.Run("not logged in sends nothing", func(t *testing.T) {
		t.Parallel()
		srv := startMock(t)
		c, _ := client.New(srv.URL)
		_, err := c.Refresh(t.Context())
		checkSentinels(t, err, "ErrNotLoggedIn")
		if n := len(srv.Requests()); n != 0 {
			t.Errorf("%d requests sent, want none", n)
		}
	})

	t.Run("expired refresh token is removed without a request", func(t *testing.T) {
		t.Parallel()
		srv := startMock(t)
		c := loggedIn(t, srv, mint(t, srv, time.Second, time.Minute))
		if err := srv.Advance(time.Minute); err != nil {
			t.Fatal(err)
		}
		_, err := c.Refresh(t.Context())
		checkSentinels(t, err, "ErrSessionInvalid")
		if !strings.Contains(err.Error(), "refresh token expired") {
			t.Errorf("error = %q, want it to say the refresh token expired", err)
		}
		if n := len(srv.Requests()); n != 0 {
			t.Errorf("%d requests sent, want none", n)
		}
		if _, err := c.Tokens(t.Context()); !errors.Is(err, client.ErrNotLoggedIn) {
			t.Errorf("Tokens after = %v, want ErrNotLoggedIn", err)
		}
	})

	// What the server answers decides whether the tokens stay.
	for _, tt := range []struct {
		name     string
		setup    func(*mock.Server, client.Tokens)
		want     string // sentinel
		wantKept bool
	}{
		{"revoked session", func(s *mock.Server, tok client.Tokens) { _ = s.RevokeSession(tok.SessionID) }, "ErrSessionInvalid", false},
		{"rotated elsewhere (reuse)", func(s *mock.Server, tok client.Tokens) { rotateOnServer(s, tok) }, "ErrSessionInvalid", false},
		{"expired on the server's clock", func(s *mock.Server, _ client.Tokens) { _ = s.Advance(8 * 24 * time.Hour) }, "ErrSessionInvalid", false},
		{"server error 503", func(s *mock.Server, _ client.Tokens) { _ = s.AddFault(mock.Fault{Route: "refresh", Status: 503}) }, "", true},
		{"server error 500", func(s *mock.Server, _ client.Tokens) { _ = s.AddFault(mock.Fault{Route: "refresh", Status: 500}) }, "", true},
		{"connection dropped", func(s *mock.Server, _ client.Tokens) { _ = s.AddFault(mock.Fault{Route: "refresh", Drop: true}) }, "", true},
		{"answer cut short", func(s *mock.Server, _ client.Tokens) { _ = s.AddFault(mock.Fault{Route: "refresh", Truncate: true}) }, "", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// The setup may make the client reuse its token or present an
			// expired one.
			srv := startMock(t, allowing(mock.FindingReuse, mock.FindingExpiredToken))
			tok := mint(t, srv, 0, 0)
			// The client's clock stays behind so that it does not find the
			// refresh token expired itself.
			c := loggedIn(t, srv, tok, client.WithClock(time.Now))
			tt.setup(srv, tok)
			before := len(requests(srv, mock.RefreshPath))
			got, err := c.Refresh(t.Context())
			if err == nil || !got.IsZero() {
				t.Fatalf("Refresh = %v, %v; want an error", got, err)
			}
			checkSentinels(t, err, tt.want)
			stored, _ := c.Tokens(t.Context())
			if kept := stored == tok; kept != tt.wantKept {
				t.Errorf("tokens kept = %v, want %v (err %v)", kept, tt.wantKept, err)
			}
			if n := len(requests(srv, mock.RefreshPath)) - before; n != 1 {
				t.Errorf("%d refresh requests, want exactly 1 (never retried)", n)
			}
		})
	}
}

// rotateOnServer refreshes tok behind the client's back, as another
// program holding the same tokens would.
func rotateOnServer(srv *mock.Server, tok client.Tokens) {
	req, _ := http.NewRequest(http.MethodGet, srv.URL+mock.RefreshPath, nil)
	req.Header.Set("Authorization", "Bearer "+tok.Refresh)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
}

// racingStore is a memory store in which, just before the first Update
// takes the lock, another "process" replaces the tokens.
type racingStore struct {
	client.TokenStore
	once  sync.Once
	other client.Tokens
}

func (s *racingStore) Update(ctx context.Context, fn func(client.Tokens) (client.Tokens, error)) (client.Tokens, error) {
	s.once.Do(func() { _ = s.TokenStore.Save(ctx, s.other) })
	return s.TokenStore.Update(ctx, fn)
}

// TestRotatedElsewhereIsUsed: when the stored pair changed between the
// first read and the lock, neither Refresh nor AccessToken presents the
// old refresh token: they take the stored pair.
func TestRotatedElsewhereIsUsed(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"Refresh", "AccessToken"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := startMock(t)
			stale := mint(t, srv, time.Second, 0)
			other := mint(t, srv, 0, 0)
			store := &racingStore{TokenStore: client.NewMemoryStore(), other: other}
			_ = store.TokenStore.Save(t.Context(), stale)
			if err := srv.Advance(2 * time.Second); err != nil {
				t.Fatal(err)
			}
			c, _ := client.New(srv.URL, client.WithTokenStore(store), client.WithClock(srv.Now))
			var got string
			var err error
			if name == "Refresh" {
				var tok client.Tokens
				tok, err = c.Refresh(t.Context())
				got = tok.Access
			} else {
				got, err = c.AccessToken(t.Context())
			}
			if err != nil || got != other.Access {
				t.Errorf("%s = %v; want the other process's token", name, err)
			}
			if n := len(requests(srv, mock.RefreshPath)); n != 0 {
				t.Errorf("%d refresh requests, want none", n)
			}
		})
	}
}

func TestAccessToken(t *testing.T) {
	t.Parallel()
	// JWT times are whole seconds: each case keeps a second of slack.
	tests := []struct {
		name        string
		accessTTL   time.Duration
		advance     time.Duration
		opts        []client.Option
		wantRefresh bool
	}{
		{"fresh", 15 * time.Minute, 0, nil, false},
		{"outside the 60 s margin", 15 * time.Minute, 13 * time.Minute, nil, false},
		{"inside the 60 s margin", 15 * time.Minute, 14*time.Minute + 1*time.Second, nil, true},
		{"expired", 15 * time.Minute, 16 * time.Minute, nil, true},
		{"short token: outside half its life", 10 * time.Second, 3 * time.Second, nil, false},
		{"short token: inside half its life", 10 * time.Second, 6 * time.Second, nil, true},
		{"custom margin: outside", 15 * time.Minute, 9 * time.Minute, []client.Option{client.WithRefreshMargin(5 * time.Minute)}, false},
		{"custom margin: inside", 15 * time.Minute, 11 * time.Minute, []client.Option{client.WithRefreshMargin(5 * time.Minute)}, true},
		{"zero margin", 10 * time.Second, 8 * time.Second, []client.Option{client.WithRefreshMargin(0)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := startMock(t)
			old := mint(t, srv, tt.accessTTL, 0)
			c := loggedIn(t, srv, old, tt.opts...)
			if tt.advance > 0 {
				if err := srv.Advance(tt.advance); err != nil {
					t.Fatal(err)
				}
			}
			got, err := c.AccessToken(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			refreshes := len(requests(srv, mock.RefreshPath))
			if tt.wantRefresh {
				stored, _ := c.Tokens(t.Context())
				if refreshes != 1 || got == old.Access || got != stored.Access || !live(srv, stored.SessionID) {
					t.Errorf("%d refreshes; want one, its token returned and stored", refreshes)
				}
			} else if refreshes != 0 || got != old.Access {
				t.Errorf("%d refreshes; want none and the stored token", refreshes)
			}
		})
	}

	t.Run("not logged in", func(t *testing.T) {
		t.Parallel()
		srv := startMock(t)
		c, _ := client.New(srv.URL)
		_, err := c.AccessToken(t.Context())
		checkSentinels(t, err, "ErrNotLoggedIn")
		if len(srv.Requests()) != 0 {
			t.Error("a request was sent")
		}
	})
}

// TestAccessTokenConcurrentRefreshOnce: 100 goroutines find the access
// token expired; exactly one refresh reaches the server and all get its
// token, which the server accepts.
func TestAccessTokenConcurrentRefreshOnce(t *testing.T) {
	t.Parallel()
	srv := startMock(t)
	old := mint(t, srv, time.Second, 0)
	c := loggedIn(t, srv, old)
	if err := srv.Advance(2 * time.Second); err != nil {
		t.Fatal(err)
	}

	const n = 100
	tokens := make([]string, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			tokens[i], errs[i] = c.AccessToken(t.Context())
		})
	}
	close(start)
	wg.Wait()

	for i := range n {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if tokens[i] != tokens[0] {
			t.Fatalf("caller %d got another token than caller 0", i)
		}
	}
	if got := requests(srv, mock.RefreshPath); len(got) != 1 || got[0].Status != 200 {
		t.Fatalf("refresh requests = %+v, want exactly one, successful", got)
	}
	stored, _ := c.Tokens(t.Context())
	if stored.Access != tokens[0] || stored.SessionID == old.SessionID || !live(srv, stored.SessionID) {
		t.Errorf("the token handed out is not the stored one of a live session")
	}
	// The server accepts it.
	req, _ := http.NewRequest(http.MethodDelete, srv.URL+mock.LogoutPath, nil)
	req.Header.Set("Authorization", "Bearer "+tokens[0])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("logout with the shared token: %s", resp.Status)
	}
}

// gate is a transport that holds refresh requests until released, and
// says when one has started.
type gate struct {
	started chan struct{}
	release chan struct{}
	aborted chan struct{}
}

func newGate() *gate {
	return &gate{started: make(chan struct{}, 10), release: make(chan struct{}), aborted: make(chan struct{}, 10)}
}

func (g *gate) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Path == mock.RefreshPath {
		g.started <- struct{}{}
		select {
		case <-g.release:
		case <-req.Context().Done():
			g.aborted <- struct{}{}
			return nil, req.Context().Err()
		}
	}
	return http.DefaultTransport.RoundTrip(req)
}

// TestSharedRefreshOutlivesOneCaller: a caller giving up does not cut the
// refresh short for the others; when all give up, it is cancelled.
func TestSharedRefreshOutlivesOneCaller(t *testing.T) {
	t.Parallel()

	t.Run("one of two gives up", func(t *testing.T) {
		t.Parallel()
		srv := startMock(t)
		g := newGate()
		c := loggedIn(t, srv, mint(t, srv, time.Second, 0), client.WithHTTPClient(&http.Client{Transport: g}))
		_ = srv.Advance(2 * time.Second)

		patient := make(chan error, 1)
		go func() {
			_, err := c.AccessToken(context.Background())
			patient <- err
		}()
		<-g.started // the refresh is in flight, the patient caller waiting
		ctx, cancel := context.WithCancel(context.Background())
		impatient := make(chan error, 1)
		go func() {
			_, err := c.AccessToken(ctx)
			impatient <- err
		}()
		cancel()
		if err := <-impatient; !errors.Is(err, context.Canceled) {
			t.Errorf("impatient caller: %v, want context.Canceled", err)
		}
		close(g.release)
		if err := <-patient; err != nil {
			t.Errorf("patient caller: %v", err)
		}
		if n := len(requests(srv, mock.RefreshPath)); n != 1 {
			t.Errorf("%d refreshes, want 1", n)
		}
	})

	t.Run("all give up", func(t *testing.T) {
		t.Parallel()
		srv := startMock(t)
		g := newGate()
		tok := mint(t, srv, time.Second, 0)
		c := loggedIn(t, srv, tok, client.WithHTTPClient(&http.Client{Transport: g}))
		_ = srv.Advance(2 * time.Second)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if _, err := c.AccessToken(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("AccessToken = %v, want context.DeadlineExceeded", err)
		}
		<-g.aborted // the refresh request was cancelled
		// The tokens are kept: a later call can still refresh.
		close(g.release)
		if _, err := c.AccessToken(context.Background()); err != nil {
			t.Errorf("AccessToken after: %v", err)
		}
	})
}

func TestLogout(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name      string
		accessTTL time.Duration
		setup     func(*mock.Server, client.Tokens)
		clock     func(*mock.Server) func() time.Time
		want      string // sentinel; "-" for an error matching none
		wantSent  int    // logout requests
		wantToken string // "access" or "refresh": the token presented
	}{
		{name: "with the access token", wantSent: 1, wantToken: "access"},
		{name: "with the refresh token once the access token expired", accessTTL: time.Second,
			setup: func(s *mock.Server, _ client.Tokens) { _ = s.Advance(time.Minute) }, wantSent: 1, wantToken: "refresh"},
		{name: "retried with the refresh token when the server finds the access token expired", accessTTL: time.Minute,
			setup: func(s *mock.Server, _ client.Tokens) { _ = s.Advance(2 * time.Minute) },
			clock: func(*mock.Server) func() time.Time { return time.Now }, wantSent: 2, wantToken: "refresh"},
		{name: "revoked session", setup: func(s *mock.Server, tok client.Tokens) { _ = s.RevokeSession(tok.SessionID) },
			want: "ErrSessionInvalid", wantSent: 1},
		{name: "server error", setup: func(s *mock.Server, _ client.Tokens) { _ = s.AddFault(mock.Fault{Route: "logout", Status: 503}) },
			want: "-", wantSent: 1},
		{name: "connection dropped", setup: func(s *mock.Server, _ client.Tokens) { _ = s.AddFault(mock.Fault{Route: "logout", Drop: true}) },
			want: "-", wantSent: 1},
		{name: "refresh token expired: nothing sent", setup: func(s *mock.Server, _ client.Tokens) { _ = s.Advance(8 * 24 * time.Hour) },
			want: "ErrSessionInvalid", wantSent: 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := startMock(t, allowing(mock.FindingExpiredToken)) // one case sets the clocks apart
			tok := mint(t, srv, tt.accessTTL, 0)
			var opts []client.Option
			if tt.clock != nil {
				opts = append(opts, client.WithClock(tt.clock(srv)))
			}
			c := loggedIn(t, srv, tok, opts...)
			if tt.setup != nil {
				tt.setup(srv, tok)
			}
			err := c.Logout(t.Context())
			switch tt.want {
			case "":
				if err != nil {
					t.Fatalf("Logout: %v", err)
				}
				if live(srv, tok.SessionID) {
					t.Error("the session is still live")
				}
			case "-":
				if err == nil {
					t.Fatal("Logout succeeded, want an error")
				}
				checkSentinels(t, err, "")
			default:
				checkSentinels(t, err, tt.want)
			}
			if _, err := c.Tokens(t.Context()); !errors.Is(err, client.ErrNotLoggedIn) {
				t.Errorf("after Logout, Tokens = %v; want them removed", err)
			}
			if n := len(requests(srv, mock.LogoutPath)); n != tt.wantSent {
				t.Errorf("%d logout requests, want %d", n, tt.wantSent)
			}
		})
	}

	t.Run("not logged in", func(t *testing.T) {
		t.Parallel()
		srv := startMock(t)
		c, _ := client.New(srv.URL)
		checkSentinels(t, c.Logout(t.Context()), "ErrNotLoggedIn")
		if len(srv.Requests()) != 0 {
			t.Error("a request was sent")
		}
	})
}

func TestContextsAreHonoured(t *testing.T) {
	t.Parallel()
	srv := startMock(t)
	for _, route := range []string{"register", "login", "refresh", "logout"} {
		if err := srv.AddFault(mock.Fault{Route: route, Delay: time.Minute}); err != nil {
			t.Fatal(err)
		}
	}
	calls := map[string]func(context.Context, *client.Client) error{
		"Register": func(ctx context.Context, c *client.Client) error { return c.Register(ctx, "slowpoke", "password1") },
		"Login": func(ctx context.Context, c *client.Client) error {
			_, err := c.Login(ctx, mock.ExampleUsername, mock.ExamplePassword)
			return err
		},
		"Refresh": func(ctx context.Context, c *client.Client) error { _, err := c.Refresh(ctx); return err },
		"AccessToken": func(ctx context.Context, c *client.Client) error {
			_, err := c.AccessToken(ctx)
			return err
		},
		"Logout": func(ctx context.Context, c *client.Client) error { return c.Logout(ctx) },
		"HTTPClient": func(ctx context.Context, c *client.Client) error {
			req, _ := http.NewRequestWithContext(ctx, http.MethodDelete, srv.URL+mock.LogoutPath, nil)
			resp, err := c.HTTPClient().Do(req)
			if err == nil {
				resp.Body.Close()
			}
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			// The client's clock is an hour ahead, so the access token needs
			// a refresh.
			c := loggedIn(t, srv, mint(t, srv, 0, 0), client.WithClock(func() time.Time { return srv.Now().Add(time.Hour) }))
			ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
			defer cancel()
			start := time.Now()
			err := call(ctx, c)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error = %v, want context.DeadlineExceeded", err)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("returned after %v", d)
			}
		})
	}
}

func TestNetworkErrorsAreWrapped(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close()
	c, _ := client.New(base)
	_, err := c.Login(t.Context(), mock.ExampleUsername, mock.ExamplePassword)
	var ue *url.Error
	if !errors.As(err, &ue) {
		t.Fatalf("Login error = %#v, want a *url.Error inside", err)
	}
	var ae *client.APIError
	if errors.As(err, &ae) {
		t.Error("a network error must not be an APIError")
	}
	if !strings.HasPrefix(err.Error(), "login: ") || strings.Contains(err.Error(), mock.ExamplePassword) {
		t.Errorf("error text = %q", err)
	}
}

// NormalizeBaseURL is the rule stores key accounts by: the same form as
// BaseURL, and an error that never quotes a password.
func TestNormalizeBaseURL(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		"HTTP://Example.COM:80/":      "http://example.com",
		"https://example.com:443/api": "https://example.com/api",
		"http://127.0.0.1:8080":       "http://127.0.0.1:8080",
	} {
		got, err := client.NormalizeBaseURL(raw)
		if err != nil || got != want {
			t.Errorf("NormalizeBaseURL(%q) = %q, %v; want %q", raw, got, err, want)
		}
		if c, err := client.New(raw); err != nil || c.BaseURL() != got {
			t.Errorf("New(%q).BaseURL() differs from NormalizeBaseURL", raw)
		}
	}
	for _, raw := range []string{"ftp://x", "http://", "http://h/?q=1", "http://h/#f",
		"http://user:Secret-Pass-42@127.0.0.1:1", "http://user:Secret-Pass-42%zz@127.0.0.1:1", "://Secret-Pass-42"} {
		_, err := client.NormalizeBaseURL(raw)
		if err == nil {
			t.Errorf("NormalizeBaseURL(%q) accepted it", raw)
			continue
		}
		if strings.Contains(err.Error(), "Secret-Pass-42") && strings.Contains(raw, "@") {
			t.Errorf("NormalizeBaseURL(%q): %q quotes the password", raw, err)
		}
		if !strings.Contains(err.Error(), "is not a server URL") {
			t.Errorf("NormalizeBaseURL(%q): %q", raw, err)
		}
	}
}

// When the store holds another account by the time Refresh has the lock
// (a switch meanwhile), Refresh refreshes that account rather than report
// the other account's old tokens as a refresh.
func TestRefreshAfterASwitchRefreshesTheActiveAccount(t *testing.T) {
	t.Parallel()
	srv := startMock(t)
	mine := mint(t, srv, 0, 0)
	other := mint(t, srv, 0, 0)
	other.Username = "alice"
	store := &racingStore{TokenStore: client.NewMemoryStore(), other: other}
	_ = store.TokenStore.Save(t.Context(), mine)
	c, _ := client.New(srv.URL, client.WithTokenStore(store), client.WithClock(srv.Now))
	got, err := c.Refresh(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got.Username != "alice" || got.Refresh == other.Refresh || got.SessionID == other.SessionID {
		t.Errorf("Refresh = %v; want alice's session rotated", got)
	}
	if n := len(requests(srv, mock.RefreshPath)); n != 1 {
		t.Errorf("%d refresh requests, want 1 (alice's)", n)
	}
	if !live(srv, mine.SessionID) {
		t.Error("the session that was switched away from was touched")
	}
}
