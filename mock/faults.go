package mock

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dyor-exchange/dyorctl/api"
)

// Fault is a rule that makes requests to one route fail or slow down. The
// first rule matching a route fires before any other check of the request.
type Fault struct {
	// Route is "register", "login", "refresh" or "logout".
	Route string
	// Status, when set (400–599), answers the error envelope with code
	// Status*1000.
	Status int
	// Delay waits before answering; with nothing else set, the request is
	// then handled as usual.
	Delay time.Duration
	// Drop closes the connection without an answer.
	Drop bool
	// Truncate sends the answer cut short.
	Truncate bool
	// Times bounds how often the rule fires (0 = unlimited); a rule used up
	// is removed.
	Times int
	// Probability in (0, 1] makes the rule fire at random (0 = always).
	Probability float64
}

// validate checks a rule against the contract's rules.
func (f Fault) validate() *Error {
	switch {
	case !knownRoute(f.Route):
		return apiErr(CodeInvalidField, "route must be one of register, login, refresh, logout")
	case f.Status != 0 && (f.Status < 400 || f.Status > 599):
		return apiErr(CodeInvalidField, "status must be a 4xx or 5xx status")
	case f.Delay < 0 || f.Delay > 10*time.Minute:
		return apiErr(CodeInvalidField, "delay must be between 0 and 10m")
	case f.Times < 0:
		return apiErr(CodeInvalidField, "times must not be negative")
	case f.Probability < 0 || f.Probability > 1 || f.Probability != f.Probability:
		return apiErr(CodeInvalidField, "probability must be in (0, 1], or 0 for always")
	}
	actions := 0
	for _, on := range []bool{f.Status != 0, f.Drop, f.Truncate} {
		if on {
			actions++
		}
	}
	if actions > 1 {
		return apiErr(CodeInvalidField, "a rule has at most one of status, drop and truncate")
	}
	if actions == 0 && f.Delay == 0 {
		return apiErr(CodeInvalidField, "a rule needs a status, a delay, drop or truncate")
	}
	return nil
}

type faults struct {
	mu    sync.Mutex
	rules []Fault
	// routes has a bit set for each route that has a rule (routeBit), so
	// that a request to any other route never takes mu: a fault on login
	// costs refresh nothing.
	routes atomic.Uint32
}

// routeBit is the bit of a route in faults.routes.
func routeBit(route string) uint32 {
	switch route {
	case "register":
		return 1
	case "login":
		return 2
	case "refresh":
		return 4
	case "logout":
		return 8
	}
	return 0
}

// setRoutes recomputes routes from rules; fs.mu is held.
func (fs *faults) setRoutes() {
	var bits uint32
	for _, f := range fs.rules {
		bits |= routeBit(f.Route)
	}
	fs.routes.Store(bits)
}

func newFaults() *faults { return &faults{} }

func (fs *faults) add(f Fault) *Error {
	if e := f.validate(); e != nil {
		return e
	}
	fs.mu.Lock()
	fs.rules = append(fs.rules, f)
	fs.setRoutes()
	fs.mu.Unlock()
	return nil
}

// match returns the first rule for route that fires now, counting it
// against Times.
func (fs *faults) match(route string) (Fault, bool) {
	if fs.routes.Load()&routeBit(route) == 0 {
		return Fault{}, false
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for i, f := range fs.rules {
		if f.Route != route {
			continue
		}
		if f.Probability > 0 && rand.Float64() >= f.Probability {
			continue
		}
		if f.Times > 0 {
			fs.rules[i].Times--
			if fs.rules[i].Times == 0 {
				fs.rules = append(fs.rules[:i:i], fs.rules[i+1:]...)
				fs.setRoutes()
			}
		}
		return f, true
	}
	return Fault{}, false
}

func (fs *faults) list() []Fault {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return append([]Fault{}, fs.rules...)
}

func (fs *faults) clear() {
	fs.mu.Lock()
	fs.rules = nil
	fs.setRoutes()
	fs.mu.Unlock()
}

// applyFault acts out f. It reports done when the request has been
// answered (or dropped); after a delay-only or a truncate rule the request
// goes on (the caller cuts the answer short for truncate).
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, f Fault, x *exchange) (done bool, status, code int) {
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return true, 0, 0
		case <-s.stop:
			t.Stop()
		}
	}
	switch {
	case f.Status != 0:
		e := &Error{Status: f.Status, Code: api.Code(f.Status * 1000), Message: fmt.Sprintf("injected fault: %d %s", f.Status, http.StatusText(f.Status))}
		status, code = writeError(w, e)
		return true, status, code
	case f.Drop:
		x.record(0, 0) // before the client sees the connection close
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return true, 0, 0
			}
		}
		// Not hijackable (HTTP/2, a recorder): abort the handler, which
		// resets the stream.
		panic(http.ErrAbortHandler)
	}
	return false, 0, 0
}

func knownRoute(name string) bool {
	_, ok := api.RouteByName(name)
	return ok
}
