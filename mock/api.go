package mock

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/dyor-exchange/dyorctl/api"
)

// Paths of the API and of the health check (package api defines them).
const (
	BasePath     = api.BasePath
	RegisterPath = api.RegisterPath
	LoginPath    = api.LoginPath
	RefreshPath  = api.RefreshPath
	LogoutPath   = api.LogoutPath
	HealthPath   = api.HealthPath
)

// route is one API route (the fault rules name it) and its handler.
type route struct {
	name   string
	method string
	handle func(s *Server, r *http.Request) (result []byte, e *Error)
}

// apiRoutes maps each path of api.Routes to its handler.
var apiRoutes = func() map[string]route {
	handlers := map[string]func(*Server, *http.Request) ([]byte, *Error){
		"register": (*Server).register,
		"login":    (*Server).login,
		"refresh":  (*Server).refresh,
		"logout":   (*Server).logout,
	}
	m := make(map[string]route, len(api.Routes))
	for _, rt := range api.Routes {
		m[rt.Path] = route{rt.Name, rt.Method, handlers[rt.Name]}
	}
	return m
}()

func (s *Server) routes() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.Path
		switch {
		case path == HealthPath:
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				writeError(w, errMethodNotAllowed(r.Method, "GET, HEAD"))
				return
			}
			writeOK(w, emptyResult)
		case strings.HasPrefix(path, ControlPath+"/") || path == ControlPath:
			if !s.cfg.admin {
				writeError(w, errNoRoute)
				return
			}
			s.control(w, r)
		default:
			s.serveAPI(w, r)
		}
	})
}

// serveAPI answers a request to the account API and records it in the
// journal.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	x := exchange{s: s, r: r, start: time.Now(), at: s.clock.Now()}
	// The Date header is on the server's clock, as a real server's is:
	// clients measure their clock's offset from it.
	w.Header()["Date"] = []string{x.at.UTC().Format(http.TimeFormat)}
	x.record(s.answerAPI(w, r, &x))
}

// exchange is one API request on its way to the journal. The entry must be
// written before the client can see the outcome: a test that reads the
// journal right after its request failed must find that request there.
// An answer that net/http sends is flushed after the handler returns, so
// serveAPI records it in time; a fault that closes the connection itself
// records first (see applyFault).
type exchange struct {
	s         *Server
	r         *http.Request
	start, at time.Time
	recorded  bool
}

// record writes the journal entry (once) and the debug log line.
func (x *exchange) record(status, code int) {
	if x.recorded {
		return
	}
	x.recorded = true
	d := time.Since(x.start)
	x.s.journal.add(Request{Method: x.r.Method, Path: x.r.URL.Path, Status: status, Code: code,
		DurationMS: float64(d.Microseconds()) / 1000, Time: x.at.UTC()})
	if x.s.log.Enabled(x.r.Context(), levelDebug) {
		x.s.log.Debug("request", "method", x.r.Method, "path", x.r.URL.Path, "status", status, "code", code, "duration", d)
	}
}

// answerAPI writes the answer and returns its status and code (0 on
// success; status 0 for a dropped connection).
func (s *Server) answerAPI(w http.ResponseWriter, r *http.Request, x *exchange) (status, code int) {
	rt, ok := apiRoutes[r.URL.Path]
	if !ok {
		return writeError(w, errNoRoute)
	}
	if r.Method != rt.method {
		return writeError(w, errMethodNotAllowed(r.Method, rt.method))
	}
	truncate := false
	if f, ok := s.faults.match(rt.name); ok {
		if done, status, code := s.applyFault(w, r, f, x); done {
			return status, code
		}
		truncate = f.Truncate
	}
	result, e := rt.handle(s, r)
	if truncate {
		// The request took effect (a refresh did rotate), but the client
		// gets the answer cut short: net/http closes the connection after
		// fewer bytes than Content-Length.
		w = &truncatingWriter{ResponseWriter: w}
	}
	if e != nil {
		return writeError(w, e)
	}
	return writeOK(w, result)
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

var emptyResult = []byte(`{}`)

func (s *Server) register(r *http.Request) ([]byte, *Error) {
	obj, e := readJSONBody(r)
	if e != nil {
		return nil, e
	}
	username, password, e := credentials(obj)
	if e != nil {
		return nil, e
	}
	if _, e := s.accounts.add(username, password, s.cfg.bcryptCost); e != nil {
		return nil, e
	}
	return emptyResult, nil
}

func (s *Server) login(r *http.Request) ([]byte, *Error) {
	obj, e := readJSONBody(r)
	if e != nil {
		return nil, e
	}
	username, password, e := credentials(obj)
	if e != nil {
		return nil, e
	}
	acc := s.accounts.lookup(username)
	if acc == nil {
		return nil, errAccountNotFound(username)
	}
	if s.accounts.lockedAt(acc, s.clock.Now()) {
		return nil, errAccountLocked
	}
	ok := bcrypt.CompareHashAndPassword(s.accounts.hashOf(acc), []byte(password)) == nil
	if locked := s.accounts.recordLogin(acc, ok, s.clock.Now(), s.cfg.lockoutAttempts, s.cfg.lockoutDuration); !ok {
		if locked {
			return nil, apiErr(CodeWrongPassword, "wrong password; the account is now locked for %s", s.cfg.lockoutDuration)
		}
		return nil, errWrongPassword
	}
	return s.newSession(acc, 0, 0).result, nil
}

// newSession creates a session for acc and signs its token pair; a zero TTL
// means the server's default.
func (s *Server) newSession(acc *account, accessTTL, refreshTTL time.Duration) issued {
	if accessTTL <= 0 {
		accessTTL = s.cfg.accessTTL
	}
	if refreshTTL <= 0 {
		refreshTTL = s.cfg.refreshTTL
	}
	now := s.clock.Now()
	sid := newRawID()
	s.sessions.put(sid, session{account: acc.key, createdAt: now.Unix(), expiresAt: now.Add(refreshTTL).Unix()})
	return s.signer.issue(acc.id, sid.String(), now, accessTTL, refreshTTL)
}

func (s *Server) refresh(r *http.Request) ([]byte, *Error) {
	token, e := bearerToken(r.Header.Get("Authorization"))
	if e != nil {
		return nil, e
	}
	now := s.clock.Now()
	c, e := s.signer.check(token, now, typeRefresh)
	if e != nil {
		return nil, e
	}
	sid, ok := parseID(c.SessionID)
	acc := s.accounts.byAccountID(c.Subject)
	if !ok || acc == nil {
		return nil, errSessionNotFound
	}
	// The successor is stored before the old session is marked rotated, so
	// a concurrent reuse of the old token always finds it to revoke.
	next := newRawID()
	s.sessions.put(next, session{account: acc.key, createdAt: now.Unix(), expiresAt: now.Add(s.cfg.refreshTTL).Unix()})
	if res := s.sessions.rotate(sid, next, now.Unix()); res != rotated {
		s.sessions.remove(next, now.Unix())
		if res == rotateReuse {
			s.log.Warn("refresh token reused; session chain revoked", "account", acc.username)
		}
		return nil, errSessionNotFound
	}
	return s.signer.issue(acc.id, next.String(), now, s.cfg.accessTTL, s.cfg.refreshTTL).result, nil
}

func (s *Server) logout(r *http.Request) ([]byte, *Error) {
	token, e := bearerToken(r.Header.Get("Authorization"))
	if e != nil {
		return nil, e
	}
	c, e := s.signer.check(token, s.clock.Now(), typeAccess, typeRefresh)
	if e != nil {
		return nil, e
	}
	if sid, ok := parseID(c.SessionID); !ok || !s.sessions.remove(sid, s.clock.Now().Unix()) {
		return nil, errSessionNotFound
	}
	return emptyResult, nil
}

// writeOK writes {"ok":true,"result":result}.
// The body is written in three parts (net/http buffers them) rather than
// copied into one.
func writeOK(w http.ResponseWriter, result []byte) (status, code int) {
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Content-Length"] = []string{strconv.Itoa(len(okPrefix) + len(result) + len(okSuffix))}
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, okPrefix)
	_, _ = w.Write(result)
	_, _ = io.WriteString(w, okSuffix)
	return http.StatusOK, 0
}

const okPrefix, okSuffix = `{"ok":true,"result":`, "}\n"

var jsonContentType = []string{"application/json"}

// errorWriter is an error that can be written as the error envelope.
type errorWriter interface {
	envelope() *Error
}

func (e *Error) envelope() *Error           { return e }
func (m methodNotAllowed) envelope() *Error { return m.Error }

// writeError writes {"ok":false,"error":{"code":…,"message":…}} with the
// status code/1000.
func writeError(w http.ResponseWriter, ew errorWriter) (status, code int) {
	e := ew.envelope()
	if m, ok := ew.(methodNotAllowed); ok {
		w.Header().Set("Allow", m.allow)
	}
	b := errorBody(e)
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Content-Length"] = []string{strconv.Itoa(len(b))}
	w.WriteHeader(e.Status)
	_, _ = w.Write(b)
	return e.Status, int(e.Code)
}

func errorBody(e *Error) []byte {
	b := make([]byte, 0, len(e.Message)+48)
	b = append(b, `{"ok":false,"error":{"code":`...)
	b = strconv.AppendInt(b, int64(e.Code), 10)
	b = append(b, `,"message":`...)
	b = appendJSONString(b, e.Message)
	b = append(b, "}}\n"...)
	return b
}
