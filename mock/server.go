package mock

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Server is an in-memory DYOR account API. Create one with New (no
// listener), NewServer or Start (listening on a free loopback port).
type Server struct {
	// URL is the base URL of a listening server, "http://127.0.0.1:PORT",
	// without a trailing slash. It is empty for a server made by New until
	// Serve is called.
	URL string

	cfg     config
	clock   clock
	signer  *signer
	log     *slog.Logger
	handler http.Handler

	accounts *accounts
	sessions *sessions
	faults   *faults
	journal  *journal
	findings findings
	settings settings
	start0   Settings // the settings Reset brings back

	tenants  tenants      // the tenants this server serves under /t/{id}
	parent   *Server      // for a tenant: the server that serves it
	tenantID string       // for a tenant: its id
	used     atomic.Int64 // for a tenant: when a request last came, unix ns on the base clock

	httpSrv  *http.Server
	stop     chan struct{}
	bg       sync.WaitGroup
	closeMu  sync.Mutex
	closed   bool
	stateMu  sync.Mutex // one state save at a time
	sweepInt time.Duration
}

// New returns a server that is not listening yet: use Handler, or Serve.
func New(opts ...Option) (*Server, error) {
	cfg := config{
		accessTTL:       DefaultAccessTTL,
		refreshTTL:      DefaultRefreshTTL,
		bcryptCost:      bcrypt.DefaultCost,
		issuer:          DefaultIssuer,
		lockoutAttempts: DefaultLockoutAttempts,
		lockoutDuration: DefaultLockoutDuration,
		now:             time.Now,
		logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
		admin:           true,
		journalSize:     DefaultJournalSize,
		readTimeout:     DefaultReadTimeout,
		loginCache:      true,
		maxTenants:      DefaultMaxTenants,
		tenantIdleTTL:   DefaultTenantIdleTTL,
	}
	for _, opt := range opts {
		if err := opt(&cfg); err != nil {
			return nil, fmt.Errorf("mock: %w", err)
		}
	}
	if cfg.noSeed && len(cfg.seeds) > 0 {
		return nil, errors.New("mock: WithSeed and WithNoSeed both given")
	}
	if !cfg.noSeed && len(cfg.seeds) == 0 {
		cfg.seeds = []seedAccount{{ExampleUsername, ExamplePassword}}
	}
	s, err := newServer(cfg)
	if err != nil {
		return nil, err
	}
	s.bg.Add(1)
	go s.background()
	return s, nil
}

// newServer builds a server from a checked configuration, without its
// background work: a tenant has none of its own.
func newServer(cfg config) (*Server, error) {
	start0, err := cfg.startSettings()
	if err != nil {
		return nil, err
	}
	// One read of the OS's generator for the signing secret (unless given)
	// and the login cache's key, which never leaves this process's memory.
	random := make([]byte, 64)
	_, _ = rand.Read(random)
	if cfg.secret == nil {
		cfg.secret = random[:32:32]
	}
	cacheKey := random[32:]
	s := &Server{
		cfg:      cfg,
		clock:    clock{base: cfg.now},
		signer:   newSigner(cfg.secret, cfg.issuer),
		log:      cfg.logger,
		accounts: newAccounts(cfg.loginCache, cacheKey),
		sessions: newSessions(),
		faults:   newFaults(),
		journal:  newJournal(cfg.journalSize),
		stop:     make(chan struct{}),
		sweepInt: time.Minute,
		start0:   start0,
	}
	s.settings.set(start0)
	if cfg.statePath != "" {
		if err := s.loadState(cfg.statePath); err != nil {
			return nil, err
		}
		s.sessions.recount(s.clock.Now().Unix())
	}
	if err := s.addSeeds(); err != nil {
		return nil, err
	}
	s.handler = s.routes()
	return s, nil
}

// NewServer returns a server listening on a free port of 127.0.0.1. Like
// httptest.NewServer it panics if it cannot listen or an option is invalid.
// Close it when done.
func NewServer(opts ...Option) *Server {
	s, err := New(opts...)
	if err != nil {
		panic(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.Close()
		panic(fmt.Sprintf("mock: listening on a loopback port: %v", err))
	}
	s.start(ln)
	return s
}

// TB is what Start needs of a test: *testing.T, *testing.B and *testing.F
// all have it. It is an interface of its own, as net/http/httptest does
// without package testing, so that programs importing mock (dyorctl's demo)
// do not link the test framework.
type TB interface {
	Helper()
	Cleanup(func())
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// Start is NewServer for tests: it fails the test instead of panicking and
// closes the server when the test and its subtests are done.
func Start(t TB, opts ...Option) *Server {
	t.Helper()
	s, err := New(opts...)
	if err != nil {
		t.Fatalf("mock: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.Close()
		t.Fatalf("mock: listening on a loopback port: %v", err)
	}
	s.start(ln)
	s.failOnFindingsAtCleanup(t) // runs after Close
	t.Cleanup(s.Close)
	return s
}

// Serve answers requests on ln until Close or Shutdown. It sets URL from
// ln's address (a wildcard address as 127.0.0.1) and returns at once; the
// error of the serving loop, if any, is logged.
func (s *Server) Serve(ln net.Listener) {
	s.start(ln)
}

func (s *Server) start(ln net.Listener) {
	s.URL = "http://" + displayAddr(ln.Addr())
	s.setTenantURLs()
	s.httpSrv = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: s.cfg.readTimeout / 3,
		ReadTimeout:       s.cfg.readTimeout,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		if err := s.httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("serving stopped", "err", err)
		}
	}()
}

// displayAddr is addr as a client reaches it: a wildcard host becomes
// 127.0.0.1.
func displayAddr(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// Handler returns the handler of the API, /healthz and (unless turned off)
// the /_mock/ control plane.
func (s *Server) Handler() http.Handler { return s.handler }

// ServeHTTP serves the API; it is Handler().ServeHTTP.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Close stops the server: requests in flight finish first (a delay fault
// is cut short), the state file, if any, is saved, and background work ends.
// Close is safe to call more than once.
func (s *Server) Close() {
	_ = s.Shutdown(context.Background())
}

// Shutdown is Close bounded by ctx: when ctx ends first, open connections
// are closed and ctx's error is returned.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closeMu.Lock()
	if s.closed {
		s.closeMu.Unlock()
		return nil
	}
	s.closed = true
	close(s.stop)
	s.closeMu.Unlock()
	if s.parent != nil {
		s.parent.tenants.remove(s.tenantID, s)
	}
	// A tenant's requests in flight are the parent's: closing the tenants
	// first cuts their delay faults short too.
	s.closeTenants()

	var err error
	if s.httpSrv != nil {
		if err = s.httpSrv.Shutdown(ctx); err != nil {
			_ = s.httpSrv.Close()
		}
	}
	s.bg.Wait()
	if s.cfg.statePath != "" {
		if serr := s.SaveState(); serr != nil {
			s.log.Error("saving state", "path", s.cfg.statePath, "err", serr)
			err = errors.Join(err, serr)
		}
	}
	return err
}

// background sweeps expired sessions and saves the state periodically.
func (s *Server) background() {
	defer s.bg.Done()
	sweep := time.NewTicker(s.sweepInt)
	defer sweep.Stop()
	var save <-chan time.Time
	if s.cfg.statePath != "" && s.cfg.saveInterval > 0 {
		t := time.NewTicker(s.cfg.saveInterval)
		defer t.Stop()
		save = t.C
	}
	for {
		select {
		case <-s.stop:
			return
		case <-sweep.C:
			s.Sweep()
			s.sweepTenants()
		case <-save:
			if err := s.SaveState(); err != nil {
				s.log.Error("saving state", "path", s.cfg.statePath, "err", err)
			}
		}
	}
}

// Sweep deletes the sessions and tombstones that have expired on the
// server's clock and returns how many it deleted. It runs every minute and
// after every Advance; tests may call it to make the state settle.
func (s *Server) Sweep() int {
	return s.sessions.sweep(s.clock.Now().Unix(), s.settings.refreshGrace())
}

func (s *Server) addSeeds() error {
	for _, seed := range s.cfg.seeds {
		if s.accounts.lookup(seed.username) != nil {
			continue // kept from the state file
		}
		// The hash is made on first use: a server that nobody logs in to
		// with a password starts without paying for bcrypt.
		if e := s.accounts.addSeed(seed.username, seed.password, s.cfg.bcryptCost); e != nil && e != errUsernameTaken {
			return fmt.Errorf("mock: seed %q: %s", seed.username, e.Message)
		}
	}
	return nil
}
