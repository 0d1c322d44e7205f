package mock

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Paths of the API and of the health check.
const (
	BasePath     = "/api/v1/account"
	RegisterPath = BasePath + "/register"
	LoginPath    = BasePath + "/login"
	RefreshPath  = BasePath + "/refresh"
	LogoutPath   = BasePath + "/logout"
	HealthPath   = "/healthz"
)

// route is one API route: the fault rules name it.
type route struct {
	name   string
	method string
	handle func(s *Server, r *http.Request) (result []byte, e *Error)
}

var apiRoutes = map[string]route{
	RegisterPath: {"register", http.MethodPost, (*Server).register},
	LoginPath:    {"login", http.MethodPost, (*Server).login},
	RefreshPath:  {"refresh", http.MethodGet, (*Server).refresh},
	LogoutPath:   {"logout", http.MethodDelete, (*Server).logout},
}

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
	start := time.Now()
	at := s.clock.Now()
	status, code := s.answerAPI(w, r)
	d := time.Since(start)
	s.journal.add(Request{Method: r.Method, Path: r.URL.Path, Status: status, Code: code,
		DurationMS: float64(d.Microseconds()) / 1000, Time: at.UTC()})
	if s.log.Enabled(r.Context(), levelDebug) {
		s.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", status, "code", code, "duration", d)
	}
}

// answerAPI writes the answer and returns its status and code (0 on
// success; status 0 for a dropped connection).
func (s *Server) answerAPI(w http.ResponseWriter, r *http.Request) (status, code int) {
	rt, ok := apiRoutes[r.URL.Path]
	if !ok {
		return writeError(w, errNoRoute)
	}
	if r.Method != rt.method {
		return writeError(w, errMethodNotAllowed(r.Method, rt.method))
	}
	truncate := false
	if f, ok := s.faults.match(rt.name); ok {
		if done, status, code := s.applyFault(w, r, f); done {
			return status, code
		}
		truncate = f.Truncate
	}
	result, e := rt.handle(s, r)
	if truncate {
		// The request took effect (a refresh did rotate), but the client
		// gets the answer cut short: net/http closes the connection after
		// fewer bytes than Content-Length.
		w = truncatingWriter{w}
	}
	if e != nil {
		return writeError(w, e)
	}
	return writeOK(w, result)
}

// truncatingWriter writes half of each body it is given.
type truncatingWriter struct{ http.ResponseWriter }

func (t truncatingWriter) Write(b []byte) (int, error) {
	n, err := t.ResponseWriter.Write(b[:len(b)/2])
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
	access, refresh, _ := s.newSession(acc, 0, 0)
	return tokenResult(access, refresh), nil
}

// newSession creates a session for acc and signs its token pair; a zero TTL
// means the server's default.
func (s *Server) newSession(acc *account, accessTTL, refreshTTL time.Duration) (access, refresh, id string) {
	if accessTTL <= 0 {
		accessTTL = s.cfg.accessTTL
	}
	if refreshTTL <= 0 {
		refreshTTL = s.cfg.refreshTTL
	}
	now := s.clock.Now()
	sess := &session{id: newID(), account: acc, createdAt: now.Unix(), expiresAt: now.Add(refreshTTL).Unix()}
	s.sessions.put(sess)
	access, refresh = s.signer.issuePair(acc.id, sess.id, now, accessTTL, refreshTTL)
	return access, refresh, sess.id
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
	acc := s.accounts.byAccountID(c.Subject)
	if acc == nil {
		return nil, errSessionNotFound
	}
	// The successor is stored before the old session is marked rotated, so
	// a concurrent reuse of the old token always finds it to revoke.
	next := &session{id: newID(), account: acc, createdAt: now.Unix(), expiresAt: now.Add(s.cfg.refreshTTL).Unix()}
	s.sessions.put(next)
	if res := s.sessions.rotate(c.SessionID, next, now.Unix()); res != rotated {
		s.sessions.remove(next.id, now.Unix())
		if res == rotateReuse {
			s.log.Warn("refresh token reused; session chain revoked", "account", acc.username)
		}
		return nil, errSessionNotFound
	}
	access, refresh := s.signer.issuePair(acc.id, next.id, now, s.cfg.accessTTL, s.cfg.refreshTTL)
	return tokenResult(access, refresh), nil
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
	if !s.sessions.remove(c.SessionID, s.clock.Now().Unix()) {
		return nil, errSessionNotFound
	}
	return emptyResult, nil
}

// tokenResult is {"token":{"access":…,"refresh":…}}. Tokens are base64url
// and dots, so they need no escaping.
func tokenResult(access, refresh string) []byte {
	b := make([]byte, 0, len(access)+len(refresh)+40)
	b = append(b, `{"token":{"access":"`...)
	b = append(b, access...)
	b = append(b, `","refresh":"`...)
	b = append(b, refresh...)
	b = append(b, `"}}`...)
	return b
}

// writeOK writes {"ok":true,"result":result}.
func writeOK(w http.ResponseWriter, result []byte) (status, code int) {
	b := make([]byte, 0, len(result)+24)
	b = append(b, `{"ok":true,"result":`...)
	b = append(b, result...)
	b = append(b, "}\n"...)
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Content-Length"] = []string{strconv.Itoa(len(b))}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
	return http.StatusOK, 0
}

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
	return e.Status, e.Code
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
