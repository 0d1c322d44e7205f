package mock

import (
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultSessionLeakThreshold is how many live sessions of one account a
// login may reach before it is a session-leak finding.
const DefaultSessionLeakThreshold = 10

// MaxSessionLeakThreshold bounds Settings.SessionLeakThreshold.
const MaxSessionLeakThreshold = 1_000_000

// Settings are the server's policies that can change while it runs
// (UpdateSettings, POST /_mock/settings), so that one server serves tests
// of several policies. Reset brings back the values it started with.
type Settings struct {
	// RefreshGrace is the rotation grace: for this long after a rotation,
	// the immediately previous refresh token is answered with the pair the
	// rotation issued, without revoking anything. 0 (the default) is
	// strict: every rotated token presented again is reuse. At most the
	// refresh tokens' lifetime.
	RefreshGrace time.Duration
	// SessionLeakThreshold is how many live sessions of one account a login
	// may reach; the login that goes past it is a session-leak finding.
	SessionLeakThreshold int
}

// settings holds Settings where the hot path reads them without a lock.
type settings struct {
	mu    sync.Mutex // one update at a time
	grace atomic.Int64
	leak  atomic.Int64
}

func (st *settings) refreshGrace() time.Duration { return time.Duration(st.grace.Load()) }
func (st *settings) leakThreshold() int          { return int(st.leak.Load()) }

func (st *settings) get() Settings {
	return Settings{RefreshGrace: st.refreshGrace(), SessionLeakThreshold: st.leakThreshold()}
}

func (st *settings) set(v Settings) {
	st.grace.Store(int64(v.RefreshGrace))
	st.leak.Store(int64(v.SessionLeakThreshold))
}

// check validates v for a server whose refresh tokens live refreshTTL. Each
// message starts with the field at fault, as the control plane names it.
func (v Settings) check(refreshTTL time.Duration) *Error {
	switch {
	case v.RefreshGrace < 0 || v.RefreshGrace > refreshTTL:
		return apiErr(CodeInvalidField, "refresh_grace must be between 0s and the refresh tokens' lifetime (%s)", refreshTTL)
	case v.SessionLeakThreshold < 1 || v.SessionLeakThreshold > MaxSessionLeakThreshold:
		return apiErr(CodeInvalidField, "session_leak_threshold must be between 1 and %d", MaxSessionLeakThreshold)
	}
	return nil
}

// startSettings are the settings of the options, checked.
func (c *config) startSettings() (Settings, error) {
	v := Settings{RefreshGrace: c.refreshGrace, SessionLeakThreshold: c.leakThreshold}
	if v.SessionLeakThreshold == 0 {
		v.SessionLeakThreshold = DefaultSessionLeakThreshold
	}
	if v.RefreshGrace > c.refreshTTL {
		return v, fmt.Errorf("mock: refresh grace %v: must be at most the refresh TTL (%v)", v.RefreshGrace, c.refreshTTL)
	}
	return v, nil
}

// WithRefreshGrace sets the rotation grace (default 0, strict; see
// Settings.RefreshGrace). It must not exceed the refresh TTL.
func WithRefreshGrace(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("refresh grace %v: must not be negative", d)
		}
		c.refreshGrace = d
		return nil
	}
}

// WithSessionLeakThreshold sets how many live sessions of one account a
// login may reach before it is a session-leak finding (default 10).
func WithSessionLeakThreshold(n int) Option {
	return func(c *config) error {
		if n < 1 || n > MaxSessionLeakThreshold {
			return fmt.Errorf("session leak threshold %d: must be between 1 and %d", n, MaxSessionLeakThreshold)
		}
		c.leakThreshold = n
		return nil
	}
}

// Settings returns the settings in force.
func (s *Server) Settings() Settings { return s.settings.get() }

// UpdateSettings replaces the settings; values breaking Settings' rules are
// a CodeInvalidField error and change nothing.
func (s *Server) UpdateSettings(v Settings) error {
	if e := v.check(s.cfg.refreshTTL); e != nil {
		return e
	}
	s.settings.mu.Lock()
	s.settings.set(v)
	s.settings.mu.Unlock()
	return nil
}

// updateSettings applies change to the settings in force and stores the
// result if it is valid.
func (s *Server) updateSettings(change func(*Settings)) (Settings, *Error) {
	s.settings.mu.Lock()
	defer s.settings.mu.Unlock()
	v := s.settings.get()
	change(&v)
	if e := v.check(s.cfg.refreshTTL); e != nil {
		return Settings{}, e
	}
	s.settings.set(v)
	return v, nil
}

// settingsJSON is Settings on the wire.
type settingsJSON struct {
	RefreshGrace         string `json:"refresh_grace"`
	SessionLeakThreshold int    `json:"session_leak_threshold"`
}

func toSettingsJSON(v Settings) settingsJSON {
	return settingsJSON{RefreshGrace: v.RefreshGrace.String(), SessionLeakThreshold: v.SessionLeakThreshold}
}

func itoa(n int) string { return strconv.Itoa(n) }
