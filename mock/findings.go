package mock

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FindingKind names something a well-behaved client never does.
type FindingKind string

// The kinds of findings.
const (
	// FindingReuse: a refresh token that was already rotated was presented
	// again (outside a rotation grace).
	FindingReuse FindingKind = "reuse"
	// FindingExpiredToken: an expired access or refresh token was presented.
	FindingExpiredToken FindingKind = "expired-token"
	// FindingEarlyRefresh: a refresh while the access token of the session
	// being rotated still had more than half its lifetime.
	FindingEarlyRefresh FindingKind = "early-refresh"
	// FindingSessionLeak: a login took an account over the threshold of
	// live sessions (Settings.SessionLeakThreshold).
	FindingSessionLeak FindingKind = "session-leak"
)

// findingKinds lists every kind, in a fixed order.
var findingKinds = []FindingKind{FindingReuse, FindingExpiredToken, FindingEarlyRefresh, FindingSessionLeak}

// FindingKinds lists every kind of finding.
func FindingKinds() []FindingKind { return slices.Clone(findingKinds) }

// MaxFindings bounds how many findings a server keeps (the latest).
const MaxFindings = 1000

// Finding is something the client under test did that a well-behaved
// client never does. It never holds a token or a password.
type Finding struct {
	Kind      FindingKind `json:"kind"`
	Time      time.Time   `json:"time"` // on the server's clock
	Route     string      `json:"route"`
	SessionID string      `json:"session_id"`
	Username  string      `json:"username"`
	Message   string      `json:"message"`
}

func (f Finding) String() string {
	return fmt.Sprintf("%s on %s at %s: session %s of %q: %s", f.Kind, f.Route, f.Time.UTC().Format(time.RFC3339), f.SessionID, f.Username, f.Message)
}

func validKind(k FindingKind) bool { return slices.Contains(findingKinds, k) }

func kindNames() string {
	names := make([]string, len(findingKinds))
	for i, k := range findingKinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

// findings keeps the latest MaxFindings in a ring, allocated on the first
// one: a load test that refreshes early on every request costs one short
// lock each, never a copy of the list nor a message written for nothing.
type findings struct {
	mu   sync.Mutex
	ring []noted
	next int
	full bool
}

// noted is a finding as kept: an early refresh's message is written when
// it is read, from left and lifetime.
type noted struct {
	Finding
	left, lifetime time.Duration
}

func (n noted) finding() Finding {
	f := n.Finding
	if f.Kind == FindingEarlyRefresh && f.Message == "" {
		f.Message = "refreshed while the access token still had " + n.left.Round(time.Second).String() +
			" of its " + n.lifetime.String() + " lifetime (more than half)"
	}
	return f
}

func (fs *findings) add(n noted) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.ring == nil {
		fs.ring = make([]noted, MaxFindings)
	}
	fs.ring[fs.next] = n
	fs.next++
	if fs.next == len(fs.ring) {
		fs.next, fs.full = 0, true
	}
}

// get returns the findings of kinds (all when none), oldest first.
func (fs *findings) get(kinds []FindingKind) []Finding {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	all := fs.ring[:fs.next]
	if fs.full {
		all = append(slices.Clone(fs.ring[fs.next:]), fs.ring[:fs.next]...)
	}
	out := []Finding{}
	for _, n := range all {
		if len(kinds) == 0 || slices.Contains(kinds, n.Kind) {
			out = append(out, n.finding())
		}
	}
	return out
}

func (fs *findings) clear() {
	fs.mu.Lock()
	fs.ring, fs.next, fs.full = nil, 0, false
	fs.mu.Unlock()
}

// note records a finding.
func (s *Server) note(f Finding) {
	f.Time = f.Time.UTC()
	s.findings.add(noted{Finding: f})
}

// noteEarlyRefresh records an early-refresh finding; its message is
// written when it is read.
func (s *Server) noteEarlyRefresh(f Finding, left, lifetime time.Duration) {
	f.Kind, f.Time, f.Message = FindingEarlyRefresh, f.Time.UTC(), ""
	s.findings.add(noted{Finding: f, left: left, lifetime: lifetime})
}

// Findings lists what the clients of the server did that a well-behaved
// client never does, oldest first (the latest MaxFindings); with kinds, only
// those kinds. Reset and ClearFindings empty the list.
func (s *Server) Findings(kinds ...FindingKind) []Finding { return s.findings.get(kinds) }

// ClearFindings empties the list of findings.
func (s *Server) ClearFindings() { s.findings.clear() }

// FailOnFindings makes Start fail the test at its cleanup, after the server
// has closed, listing every finding of the given kinds (all kinds when none
// is given), the way the race detector reports: a test suite run with it
// checks that the client under test never reuses a refresh token, presents
// an expired token, refreshes early or leaks sessions. Given again, the last
// one counts. NewServer and New ignore it.
func FailOnFindings(kinds ...FindingKind) Option {
	return func(c *config) error {
		for _, k := range kinds {
			if !validKind(k) {
				return fmt.Errorf("finding kind %q: want one of %s", k, kindNames())
			}
		}
		if len(kinds) == 0 {
			kinds = findingKinds
		}
		c.failOn = slices.Clone(kinds)
		return nil
	}
}

// failOnFindingsAtCleanup arranges for t to fail at cleanup if the server
// has findings of the kinds of FailOnFindings. Called before Start
// registers Close, it runs after it.
func (s *Server) failOnFindingsAtCleanup(t TB) {
	if len(s.cfg.failOn) == 0 {
		return
	}
	t.Cleanup(func() {
		found := s.Findings(s.cfg.failOn...)
		if len(found) == 0 {
			return
		}
		var b strings.Builder
		b.WriteString("mock: FailOnFindings: the client under test did " + strconv.Itoa(len(found)) +
			" thing(s) a well-behaved client never does:\n")
		for _, f := range found {
			b.WriteString("  " + f.String() + "\n")
		}
		t.Errorf("%s", b.String())
	})
}
