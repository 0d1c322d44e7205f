package mock

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dyor-exchange/dyorctl/api"
)

// Bounds of fault rules. The number of rules is capped so that a script
// gone wrong cannot make every request of the server scan a huge list.
const (
	MaxFaults           = 1000
	MaxFaultDelay       = 10 * time.Minute
	MaxCollide          = 100
	DefaultCollideAfter = 5 * time.Second // a collision rule's timeout when none is given
	MaxRetryAfter       = 24 * time.Hour
)

// Fault is a rule that makes requests to one route fail, slow down, lose
// their answer or collide. The first rule matching a route fires before any
// other check of the request.
type Fault struct {
	// ID names the rule once it is stored (DeleteFault, the journal's
	// fault member); the server sets it.
	ID string
	// Route is "register", "login", "refresh" or "logout".
	Route string
	// Status, when set (400–599), answers the error envelope with code
	// Status*1000.
	Status int
	// RetryAfter, with Status 429 or 503, sends a Retry-After header of
	// that many whole seconds.
	RetryAfter time.Duration
	// Delay waits before answering; with nothing else set, the request is
	// then handled as usual.
	Delay time.Duration
	// Drop closes the connection without an answer.
	Drop bool
	// Truncate sends the answer cut short. The request is always handled
	// first: there is no answer to cut before that.
	Truncate bool
	// After makes the rule act once the request has been handled in full
	// (the session rotated, the account registered, the session deleted):
	// then the delay is waited, and the answer dropped, cut short or
	// replaced by Status. Without After, Status and Drop act before any
	// work is done.
	After bool
	// Collide, 2 or more, holds the first Collide matching requests until
	// all of them have arrived or Timeout has passed since the first one,
	// then lets them all go on together to be handled as usual. A rule
	// with Collide does nothing else.
	Collide int
	// Timeout bounds how long a collision rule holds its requests
	// (DefaultCollideAfter when 0). A group the timeout releases goes on
	// as it is, however few it holds.
	Timeout time.Duration
	// Times bounds how often the rule fires (0 = unlimited); a rule used up
	// is removed. A collision rule counts groups, not requests.
	Times int
	// Remaining is how many more times the rule fires (0 when Times is 0,
	// unlimited). Faults sets it; AddFault ignores it.
	Remaining int
	// Held is how many requests a collision rule holds now, waiting for
	// the rest of their group. Faults sets it; AddFault ignores it.
	Held int
	// Probability in (0, 1] makes the rule fire at random (0 = always).
	Probability float64
}

// validate checks a rule against Fault's rules. Each message starts with
// the field at fault, as the control plane names it.
func (f Fault) validate() *Error {
	bad := func(format string, args ...any) *Error { return apiErr(CodeInvalidField, format, args...) }
	switch {
	case !knownRoute(f.Route):
		return bad("route must be one of register, login, refresh, logout")
	case f.Status != 0 && (f.Status < 400 || f.Status > 599):
		return bad("status must be a 4xx or 5xx status")
	case f.Delay < 0 || f.Delay > MaxFaultDelay:
		return bad("delay must be between 0 and %s", MaxFaultDelay)
	case f.Times < 0:
		return bad("times must not be negative")
	case f.Probability < 0 || f.Probability > 1 || f.Probability != f.Probability:
		return bad("probability must be in (0, 1], or 0 for always")
	case f.RetryAfter < 0 || f.RetryAfter > MaxRetryAfter || f.RetryAfter%time.Second != 0:
		return bad("retry_after must be whole seconds between 1s and %s", MaxRetryAfter)
	case f.RetryAfter > 0 && f.Status != http.StatusTooManyRequests && f.Status != http.StatusServiceUnavailable:
		return bad("retry_after needs status 429 or 503")
	case f.Collide < 0 || f.Collide == 1 || f.Collide > MaxCollide:
		return bad("collide must be between 2 and %d requests", MaxCollide)
	case f.Timeout < 0 || f.Timeout > MaxFaultDelay:
		return bad("timeout must be between 0 and %s", MaxFaultDelay)
	case f.Timeout > 0 && f.Collide == 0:
		return bad("timeout needs collide")
	}
	if f.Collide > 0 {
		for _, c := range []struct {
			name string
			on   bool
		}{{"status", f.Status != 0}, {"delay", f.Delay != 0}, {"drop", f.Drop}, {"truncate", f.Truncate},
			{"after", f.After}, {"probability", f.Probability != 0}} {
			if c.on {
				return bad("%s cannot be combined with collide", c.name)
			}
		}
		return nil
	}
	actions := 0
	for _, on := range []bool{f.Status != 0, f.Drop, f.Truncate} {
		if on {
			actions++
		}
	}
	if actions > 1 {
		return bad("status, drop and truncate: a rule has at most one of them")
	}
	if actions == 0 && f.Delay == 0 {
		return bad("status, delay, drop, truncate or collide: a rule needs one of them")
	}
	return nil
}

// rule is a stored Fault with its state.
type rule struct {
	Fault
	remaining int        // for Times > 0
	group     *collision // the group a collision rule is filling, if any
}

// collision is one group of requests held by a collision rule. release is
// closed when the group goes on; timedOut is set before that.
type collision struct {
	want     int
	arrived  int
	release  chan struct{}
	timedOut bool
	timer    *time.Timer
}

type faults struct {
	mu     sync.Mutex
	rules  []*rule
	nextID int
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
	for _, r := range fs.rules {
		bits |= routeBit(r.Route)
	}
	fs.routes.Store(bits)
}

func newFaults() *faults { return &faults{} }

// add stores f and returns it as stored, with its id.
func (fs *faults) add(f Fault) (Fault, *Error) {
	if e := f.validate(); e != nil {
		return Fault{}, e
	}
	if f.Collide > 0 && f.Timeout == 0 {
		f.Timeout = DefaultCollideAfter
	}
	f.Remaining, f.Held = f.Times, 0
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if len(fs.rules) >= MaxFaults {
		return Fault{}, apiErr(CodeInvalidField, "at most %d fault rules are kept: delete some first", MaxFaults)
	}
	fs.nextID++
	f.ID = "f" + strconv.Itoa(fs.nextID)
	fs.rules = append(fs.rules, &rule{Fault: f, remaining: f.Times})
	fs.setRoutes()
	return f, nil
}

// match returns the first rule for route that fires now, counting it
// against Times. For a collision rule it also returns the group the request
// joins; the request must wait for the group's release.
func (fs *faults) match(route string) (Fault, *collision, bool) {
	if fs.routes.Load()&routeBit(route) == 0 {
		return Fault{}, nil, false
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for i, r := range fs.rules {
		if r.Route != route {
			continue
		}
		if r.Probability > 0 && rand.Float64() >= r.Probability {
			continue
		}
		if r.Collide > 0 {
			return r.Fault, fs.join(r), true
		}
		if r.Times > 0 {
			r.remaining--
			if r.remaining == 0 {
				fs.removeAt(i)
			}
		}
		return r.Fault, nil, true
	}
	return Fault{}, nil, false
}

// join adds a request to r's current group, starting one if needed; a
// group that is full goes on at once. fs.mu is held.
func (fs *faults) join(r *rule) *collision {
	g := r.group
	if g == nil {
		g = &collision{want: r.Collide, release: make(chan struct{})}
		r.group = g
		g.timer = time.AfterFunc(r.Timeout, func() {
			fs.mu.Lock()
			defer fs.mu.Unlock()
			if r.group == g {
				fs.releaseGroup(r, true)
			}
		})
	}
	g.arrived++
	if g.arrived == g.want {
		g.timer.Stop()
		fs.releaseGroup(r, false)
	}
	return g
}

// releaseGroup lets r's current group go on and counts it against Times.
// fs.mu is held.
func (fs *faults) releaseGroup(r *rule, timedOut bool) {
	g := r.group
	r.group = nil
	g.timedOut = timedOut
	close(g.release)
	if r.Times > 0 {
		r.remaining--
		if r.remaining == 0 {
			for i, x := range fs.rules {
				if x == r {
					fs.removeAt(i)
					break
				}
			}
		}
	}
}

// removeAt deletes rule i; a group it holds goes on. fs.mu is held.
func (fs *faults) removeAt(i int) {
	r := fs.rules[i]
	fs.rules = append(fs.rules[:i:i], fs.rules[i+1:]...)
	if r.group != nil {
		r.group.timer.Stop()
		fs.releaseGroup(r, true)
	}
	fs.setRoutes()
}

// remove deletes the rule with the given id and reports whether it was
// there.
func (fs *faults) remove(id string) bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for i, r := range fs.rules {
		if r.ID == id {
			r.Times = 0 // a group it holds is released without counting
			fs.removeAt(i)
			return true
		}
	}
	return false
}

func (fs *faults) list() []Fault {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	out := make([]Fault, 0, len(fs.rules))
	for _, r := range fs.rules {
		f := r.Fault
		f.Remaining = r.remaining
		if r.group != nil {
			f.Held = r.group.arrived
		}
		out = append(out, f)
	}
	return out
}

// clear removes every rule; held requests go on.
func (fs *faults) clear() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for len(fs.rules) > 0 {
		fs.rules[0].Times = 0
		fs.removeAt(0)
	}
	fs.setRoutes()
}

// injected is the answer of a rule with a status.
func injected(f Fault) *Error {
	return &Error{Status: f.Status, Code: api.Code(f.Status * 1000), Message: fmt.Sprintf("injected fault: %d %s", f.Status, http.StatusText(f.Status))}
}

func knownRoute(name string) bool {
	_, ok := api.RouteByName(name)
	return ok
}
