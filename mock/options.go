package mock

import (
	"fmt"
	"log/slog"
	"time"
)

// Defaults of a new server.
const (
	DefaultAccessTTL       = 15 * time.Minute
	DefaultRefreshTTL      = 7 * 24 * time.Hour
	DefaultIssuer          = "dyormock"
	DefaultLockoutAttempts = 5
	DefaultLockoutDuration = 15 * time.Minute
	DefaultJournalSize     = 1000
	DefaultReadTimeout     = 30 * time.Second

	// MaxHeaderBytes bounds a request's header block; larger ones get a
	// 431 from net/http.
	MaxHeaderBytes = 64 << 10

	// The documented example account, present unless WithSeed or WithNoSeed is given.
	ExampleUsername = "john@API"
	ExamplePassword = "honeyBunnies"
)

// Option configures a Server.
type Option func(*config) error

type seedAccount struct{ username, password string }

type config struct {
	accessTTL       time.Duration
	refreshTTL      time.Duration
	bcryptCost      int
	secret          []byte
	issuer          string
	seeds           []seedAccount
	noSeed          bool
	lockoutAttempts int
	lockoutDuration time.Duration
	now             func() time.Time
	logger          *slog.Logger
	admin           bool
	statePath       string
	saveInterval    time.Duration
	journalSize     int
	readTimeout     time.Duration
	loginCache      bool
	maxTenants      int
	tenantIdleTTL   time.Duration
	refreshGrace    time.Duration // settings.go
	leakThreshold   int
	failOn          []FindingKind // findings.go
}

// WithAccessTTL sets the lifetime of access tokens (default 15m).
func WithAccessTTL(d time.Duration) Option {
	return func(c *config) error {
		if d < time.Second {
			return fmt.Errorf("access TTL %v: must be at least 1s", d)
		}
		c.accessTTL = d
		return nil
	}
}

// WithRefreshTTL sets the lifetime of refresh tokens and sessions (default 7 days).
func WithRefreshTTL(d time.Duration) Option {
	return func(c *config) error {
		if d < time.Second {
			return fmt.Errorf("refresh TTL %v: must be at least 1s", d)
		}
		c.refreshTTL = d
		return nil
	}
}

// WithBcryptCost sets the bcrypt cost of password hashes (4 to 31; default
// bcrypt.DefaultCost). Tests use 4.
func WithBcryptCost(cost int) Option {
	return func(c *config) error {
		if cost < 4 || cost > 31 {
			return fmt.Errorf("bcrypt cost %d: must be between 4 and 31", cost)
		}
		c.bcryptCost = cost
		return nil
	}
}

// WithSecret sets the HS256 signing secret. Without it the secret is random
// per server, so tokens do not survive a restart.
func WithSecret(secret []byte) Option {
	return func(c *config) error {
		if len(secret) == 0 {
			return fmt.Errorf("secret: must not be empty")
		}
		c.secret = append([]byte(nil), secret...)
		return nil
	}
}

// WithIssuer sets the iss claim (default "dyormock").
func WithIssuer(iss string) Option {
	return func(c *config) error {
		if iss == "" {
			return fmt.Errorf("issuer: must not be empty")
		}
		for _, r := range iss {
			if r < 0x20 || r > 0x7e {
				return fmt.Errorf("issuer %q: only printable ASCII characters", iss)
			}
		}
		c.issuer = iss
		return nil
	}
}

// WithSeed adds an account that exists from the start and comes back on
// Reset. It may be given several times. Any WithSeed replaces the default
// example account john@API / honeyBunnies.
func WithSeed(username, password string) Option {
	return func(c *config) error {
		if err := validateCredentials(username, password); err != nil {
			return fmt.Errorf("seed %q: %s", username, err.Message)
		}
		c.seeds = append(c.seeds, seedAccount{username, password})
		return nil
	}
}

// WithNoSeed starts the server without any account.
func WithNoSeed() Option {
	return func(c *config) error { c.noSeed = true; return nil }
}

// WithLockout sets how many consecutive wrong passwords lock an account
// (0 turns lockout off; default 5) and for how long (default 15m).
func WithLockout(threshold int, duration time.Duration) Option {
	return func(c *config) error {
		if threshold < 0 {
			return fmt.Errorf("lockout threshold %d: must not be negative", threshold)
		}
		if threshold > 0 && duration <= 0 {
			return fmt.Errorf("lockout duration %v: must be positive", duration)
		}
		c.lockoutAttempts, c.lockoutDuration = threshold, duration
		return nil
	}
}

// WithClock sets the base clock (default time.Now). Advance moves the
// server's clock forward from it.
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return fmt.Errorf("clock: must not be nil")
		}
		c.now = now
		return nil
	}
}

// WithLogger sets the logger (default: discard). Requests are logged one
// line each at debug level; passwords and tokens never are.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return fmt.Errorf("logger: must not be nil")
		}
		c.logger = l
		return nil
	}
}

// WithAdmin turns the /_mock/ control plane routes on or off (default on).
// The Go methods of *Server work either way.
func WithAdmin(on bool) Option {
	return func(c *config) error { c.admin = on; return nil }
}

// WithStateFile loads accounts, sessions and tombstones from path when the
// server is created (a missing file means empty) and saves them atomically
// when it is closed and every interval (0 means only on close). Tokens
// issued before a restart stay valid only with a fixed WithSecret.
func WithStateFile(path string, interval time.Duration) Option {
	return func(c *config) error {
		if path == "" {
			return fmt.Errorf("state file: empty path")
		}
		if interval < 0 {
			return fmt.Errorf("state save interval %v: must not be negative", interval)
		}
		c.statePath, c.saveInterval = path, interval
		return nil
	}
}

// WithJournalSize sets how many requests the journal keeps (default 1000).
func WithJournalSize(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("journal size %d: must be at least 1", n)
		}
		c.journalSize = n
		return nil
	}
}

// WithReadTimeout bounds how long a client may take to send a request
// (default 30s; the header alone gets a third of it). A client that sends
// a body that never finishes has its connection closed then.
func WithReadTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d < 10*time.Millisecond {
			return fmt.Errorf("read timeout %v: must be at least 10ms", d)
		}
		c.readTimeout = d
		return nil
	}
}

// WithLoginCache turns the login cache on or off (default on). With it, a
// login whose password has verified before for the same account (and the
// same password hash) skips bcrypt: the server keeps an HMAC of the
// password, keyed with a random key of its own, in memory only. Wrong
// passwords, lockout and register cost what they always did. Turn it off
// for bcrypt's cost on every login, as a real server pays.
func WithLoginCache(on bool) Option {
	return func(c *config) error { c.loginCache = on; return nil }
}

// WithMaxTenants bounds how many tenants (NewTenant, POST /_mock/tenants)
// the server holds at once (default 1000; 0 turns tenants off). One more
// is refused with CodeTooManyTenants.
func WithMaxTenants(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return fmt.Errorf("max tenants %d: must not be negative", n)
		}
		c.maxTenants = n
		return nil
	}
}

// WithTenantIdleTTL ends a tenant that has had no request for d (default
// 1h; 0 keeps tenants until they are ended), so that CI workers that never
// end theirs do not fill the server up. Idle time runs on the base clock
// (WithClock), not on any server's advanced clock.
func WithTenantIdleTTL(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("tenant idle TTL %v: must not be negative", d)
		}
		c.tenantIdleTTL = d
		return nil
	}
}
