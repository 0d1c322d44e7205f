package mock

import (
	"net/http"
	"strconv"
	"time"
)

// reply is what the server sends for one API request, decided before any
// byte of it is written, so that the journal entry is in place before the
// client can see the answer (or its absence).
type reply struct {
	result     []byte
	e          errorWriter
	drop       bool          // close the connection without an answer
	gone       bool          // the client left while the request waited: send nothing
	truncate   bool          // cut the body short
	retryAfter time.Duration // a Retry-After header
}

// outcome is the status and code of a reply: 0, 0 for nothing sent.
func (a reply) outcome() (status, code int) {
	switch {
	case a.drop || a.gone:
		return 0, 0
	case a.e != nil:
		e := a.e.envelope()
		return e.Status, int(e.Code)
	}
	return http.StatusOK, 0
}

// serveAPI answers a request to the account API and records it in the
// journal. The entry is written before the answer goes out: a client that
// saw a dropped or cut answer finds it in the journal already.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	entry := Request{Method: r.Method, Path: r.URL.Path, Time: s.clock.Now().UTC()}
	var a reply
	rt, ok := apiRoutes[r.URL.Path]
	switch {
	case !ok:
		a.e = errNoRoute
	case r.Method != rt.method:
		a.e = errMethodNotAllowed(r.Method, rt.method)
	default:
		entry.Route = rt.name
		a = s.answerRoute(r, rt, &entry)
	}
	entry.Status, entry.Code = a.outcome()
	entry.Truncated = a.truncate && !a.drop && !a.gone
	d := time.Since(start)
	entry.DurationMS = float64(d.Microseconds()) / 1000
	s.journal.add(entry)
	if s.log.Enabled(r.Context(), levelDebug) {
		s.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", entry.Status, "code", entry.Code,
			"fault", entry.Fault, "duration", d)
	}
	// The Date header is on the server's clock, stamped as the answer goes
	// out, as a real server's is: clients measure their clock's offset
	// from it.
	w.Header()["Date"] = []string{s.clock.Now().UTC().Format(http.TimeFormat)}
	s.send(w, a)
}

// answerRoute handles a request to rt under the fault rules and returns
// what to send; entry gets the rule that fired and, for a rule acting
// after the work, what the handling itself answered.
func (s *Server) answerRoute(r *http.Request, rt route, entry *Request) reply {
	f, group, fired := s.faults.match(rt.name)
	if !fired {
		result, e := rt.handle(s, r)
		return handled(result, e)
	}
	entry.Fault = f.ID
	if group != nil {
		if !s.hold(r, group) {
			return reply{gone: true}
		}
		entry.Collision = CollisionComplete
		if group.timedOut {
			entry.Collision = CollisionTimeout
		}
		result, e := rt.handle(s, r)
		return handled(result, e)
	}
	if !f.After {
		if spoiled, done := s.spoil(r, f); done {
			return spoiled
		}
		result, e := rt.handle(s, r)
		a := handled(result, e)
		a.truncate = f.Truncate
		return a
	}
	// After the work: handle the request in full, then spoil the answer.
	result, e := rt.handle(s, r)
	a := handled(result, e)
	st, code := a.outcome()
	entry.Handled = &Outcome{Status: st, Code: code}
	if spoiled, done := s.spoil(r, f); done {
		return spoiled
	}
	a.truncate = f.Truncate
	return a
}

// spoil acts out the part of f that replaces an answer: its delay, then
// its status or its drop. done is false when the request's own answer is
// to go out (cut short if f truncates).
func (s *Server) spoil(r *http.Request, f Fault) (a reply, done bool) {
	if !s.wait(r, f.Delay) {
		return reply{gone: true}, true
	}
	switch {
	case f.Status != 0:
		return reply{e: injected(f), retryAfter: f.RetryAfter}, true
	case f.Drop:
		return reply{drop: true}, true
	}
	return reply{}, false
}

func handled(result []byte, e *Error) reply {
	if e != nil {
		return reply{e: e}
	}
	return reply{result: result}
}

// wait waits d and reports false if the client left meanwhile. Close cuts
// the wait short.
func (s *Server) wait(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
		return false
	case <-s.stop:
	}
	return true
}

// hold waits until the collision group g goes on, and reports false if the
// client left meanwhile. Close lets the request go on.
func (s *Server) hold(r *http.Request, g *collision) bool {
	select {
	case <-g.release:
	case <-r.Context().Done():
		return false
	case <-s.stop:
	}
	return true
}

// send writes a.
func (s *Server) send(w http.ResponseWriter, a reply) {
	switch {
	case a.gone:
		return
	case a.drop:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		// Not hijackable (HTTP/2, a recorder): abort the handler, which
		// resets the stream.
		panic(http.ErrAbortHandler)
	}
	if a.truncate {
		// The request took effect (a refresh did rotate), but the client
		// gets the answer cut short: net/http closes the connection after
		// fewer bytes than Content-Length.
		w = &truncatingWriter{ResponseWriter: w}
	}
	if a.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(a.retryAfter/time.Second)))
	}
	if a.e != nil {
		writeError(w, a.e)
		return
	}
	writeOK(w, a.result)
}

// truncatingWriter writes the first half of the body its Content-Length
// announces, and flushes it.
type truncatingWriter struct {
	http.ResponseWriter
	left int // bytes of the body still to write
}

func (t *truncatingWriter) WriteHeader(status int) {
	n, _ := strconv.Atoi(t.Header().Get("Content-Length"))
	t.left = n / 2
	t.ResponseWriter.WriteHeader(status)
}

func (t *truncatingWriter) Write(b []byte) (int, error) {
	k := min(len(b), t.left)
	t.left -= k
	n, err := t.ResponseWriter.Write(b[:k])
	if f, ok := t.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
	return n, err
}
