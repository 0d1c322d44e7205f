package mock

import (
	"encoding/json"
	"log/slog"
	"sync"
	"time"
)

const levelDebug = slog.LevelDebug

// Request is one entry of the request journal. It never holds a body, a
// header, a password or a token.
type Request struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	// Route is the API route's name (as fault rules name it), "" for a
	// request that matched no route (another path, or another method).
	Route string `json:"route,omitempty"`
	// Status and Code are what the client received: status 0 when it got
	// no answer (dropped, or it left while the request was held), code 0
	// on success.
	Status int `json:"status"`
	Code   int `json:"code"`
	// Truncated is set when the answer was sent cut short.
	Truncated  bool      `json:"truncated,omitempty"`
	DurationMS float64   `json:"duration_ms"`
	Time       time.Time `json:"time"` // arrival, on the server's clock
	// Fault is the id of the fault rule that fired, if any.
	Fault string `json:"fault,omitempty"`
	// Handled is what the server's handling answered, when a rule acting
	// after the work (Fault.After) fired: Status and Code then say what the
	// client received instead (or later, for a delay).
	Handled *Outcome `json:"handled,omitempty"`
	// Collision says how a collision rule let the request go:
	// CollisionComplete or CollisionTimeout.
	Collision string `json:"collision,omitempty"`
}

// Outcome is an answer's status and code (0 on success).
type Outcome struct {
	Status int `json:"status"`
	Code   int `json:"code"`
}

// How a collision rule let a request go (Request.Collision).
const (
	CollisionComplete = "complete" // every request of the group arrived
	CollisionTimeout  = "timeout"  // the group went on short: its timeout passed, or the rule was deleted
)

// RequestFilter selects journal entries; zero members select all.
type RequestFilter struct {
	Route  string    // an API route's name
	Status *int      // the status the client received (0: no answer)
	Since  time.Time // arrival at or after, on the server's clock
}

func (f RequestFilter) match(r Request) bool {
	return (f.Route == "" || r.Route == f.Route) && (f.Status == nil || r.Status == *f.Status) &&
		(f.Since.IsZero() || !r.Time.Before(f.Since))
}

// journal keeps the last n API requests in a ring. The ring grows to n as
// requests come, so an idle server (or tenant) holds no room for them.
type journal struct {
	mu   sync.Mutex
	ring []Request
	size int
	next int
	full bool
}

func newJournal(n int) *journal { return &journal{size: n} }

func (j *journal) add(r Request) {
	j.mu.Lock()
	if len(j.ring) < j.size {
		j.ring = append(j.ring, r)
		j.next = len(j.ring)
	} else {
		j.ring[j.next] = r
		j.next++
	}
	if j.next == j.size {
		j.next, j.full = 0, true
	}
	j.mu.Unlock()
}

// list returns the entries oldest first.
func (j *journal) list() []Request {
	j.mu.Lock()
	defer j.mu.Unlock()
	if !j.full {
		return append([]Request{}, j.ring[:j.next]...)
	}
	out := make([]Request, 0, len(j.ring))
	out = append(out, j.ring[j.next:]...)
	return append(out, j.ring[:j.next]...)
}

func (j *journal) clear() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.ring = nil
	j.next, j.full = 0, false
}

func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s)
	return append(b, q...)
}
