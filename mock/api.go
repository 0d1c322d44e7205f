package mock

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

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
		case strings.HasPrefix(path, TenantPrefix) && s.parent == nil:
			s.serveTenant(w, r)
		default:
			s.serveAPI(w, r)
		}
	})
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
	ok, e := s.accounts.checkPassword(acc, password)
	if e != nil {
		return nil, e
	}
	if locked := s.accounts.recordLogin(acc, ok, s.clock.Now(), s.cfg.lockoutAttempts, s.cfg.lockoutDuration); !ok {
		if locked {
			return nil, apiErr(CodeWrongPassword, "wrong password; the account is now locked for %s", s.cfg.lockoutDuration)
		}
		return nil, errWrongPassword
	}
	return s.newSession(acc, 0, 0, true).result, nil
}

// newSession creates a session for acc and signs its token pair; a zero TTL
// means the server's default. viaLogin is false for a session minted by the
// control plane.
func (s *Server) newSession(acc *account, accessTTL, refreshTTL time.Duration, viaLogin bool) issued {
	if accessTTL <= 0 {
		accessTTL = s.cfg.accessTTL
	}
	if refreshTTL <= 0 {
		refreshTTL = s.cfg.refreshTTL
	}
	now := s.clock.Now()
	sid := newRawID()
	s.sessions.put(sid, session{account: acc.key, createdAt: now.Unix(), expiresAt: now.Add(refreshTTL).Unix(),
		accessExp: now.Add(accessTTL).Unix()})
	is := s.signer.issue(acc.id, sid.String(), now, accessTTL, refreshTTL)
	s.sessionCreated(acc, is.sessionID, now, viaLogin)
	return is
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
