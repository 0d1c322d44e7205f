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
	Method     string    `json:"method"`
	Path       string    `json:"path"`
	Status     int       `json:"status"` // 0 for a dropped connection
	Code       int       `json:"code"`   // 0 on success
	DurationMS float64   `json:"duration_ms"`
	Time       time.Time `json:"time"` // on the server's clock
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
