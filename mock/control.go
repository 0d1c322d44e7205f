package mock

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// ControlPath is the prefix of the control plane's routes.
const ControlPath = "/_mock"

// Minted is a session made by MintSession.
type Minted struct {
	SessionID string
	Access    string
	Refresh   string
}

// Accounts lists the accounts, by username.
func (s *Server) Accounts() []Account { return s.accounts.list(s.clock.Now()) }

// AddAccount adds an account under register's rules and codes.
func (s *Server) AddAccount(username, password string) (Account, error) {
	if e := validateCredentials(username, password); e != nil {
		return Account{}, e
	}
	acc, e := s.accounts.add(username, password, s.cfg.bcryptCost)
	if e != nil {
		return Account{}, e
	}
	return Account{ID: acc.id, Username: acc.username}, nil
}

// Sessions lists the live sessions, oldest first.
func (s *Server) Sessions() []Session {
	return s.sessions.list(s.clock.Now().Unix(), func(account id) (string, bool) {
		acc := s.accounts.byAccountID(account.String())
		if acc == nil { // it went with a reset while the session was made
			return "", false
		}
		return acc.username, true
	})
}

// RevokeSession ends a live session, as logout would; an unknown id is a
// CodeNotFound error.
func (s *Server) RevokeSession(id string) error {
	if sid, ok := parseID(id); !ok || !s.sessions.remove(sid, s.clock.Now().Unix()) {
		return apiErr(CodeNotFound, "no live session %q", id)
	}
	return nil
}

// MintSession creates a session for an existing account without its
// password, as login would, with the given token lifetimes (0 = the
// server's). It lets a test start logged in, or hold a token that expires
// soon, without bcrypt or waiting.
func (s *Server) MintSession(username string, accessTTL, refreshTTL time.Duration) (Minted, error) {
	if accessTTL < 0 || refreshTTL < 0 {
		return Minted{}, apiErr(CodeInvalidField, "token lifetimes must not be negative")
	}
	acc := s.accounts.lookup(username)
	if acc == nil {
		return Minted{}, errAccountNotFound(username)
	}
	is := s.newSession(acc, accessTTL, refreshTTL)
	return Minted{SessionID: is.sessionID, Access: string(is.access), Refresh: string(is.refresh)}, nil
}

// Reset brings the server back to its start: the seed accounts only, no
// sessions, tombstones, lockouts or faults, an empty journal, and the clock
// without any advance.
func (s *Server) Reset() {
	s.sessions.clear()
	s.accounts.clear()
	s.faults.clear()
	s.journal.clear()
	s.clock.reset()
	if err := s.addSeeds(); err != nil {
		s.log.Error("reset: adding seed accounts", "err", err)
	}
}

// AddFault adds a fault rule; a rule that breaks Fault's rules is a
// CodeInvalidField error.
func (s *Server) AddFault(f Fault) error {
	if e := s.faults.add(f); e != nil {
		return e
	}
	return nil
}

// Faults lists the fault rules in force, in the order they are matched.
func (s *Server) Faults() []Fault { return s.faults.list() }

// ClearFaults removes every fault rule.
func (s *Server) ClearFaults() { s.faults.clear() }

// Now is the time on the server's clock.
func (s *Server) Now() time.Time { return s.clock.Now() }

// Advance moves the server's clock forward by d (at most ten years) and
// sweeps what has expired.
func (s *Server) Advance(d time.Duration) error {
	if d <= 0 || d > 10*365*24*time.Hour {
		return apiErr(CodeInvalidField, "advance must be a positive duration of at most 87600h")
	}
	s.clock.advance(d)
	s.Sweep()
	return nil
}

// Requests returns the journal of API requests, oldest first.
func (s *Server) Requests() []Request { return s.journal.list() }

// control serves the /_mock/ routes.
func (s *Server) control(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, ControlPath), "/")
	var (
		result any
		e      errorWriter
	)
	switch {
	case path == "/accounts":
		result, e = s.controlAccounts(r)
	case path == "/sessions":
		result, e = s.controlSessions(r)
	case strings.HasPrefix(path, "/sessions/"):
		if r.Method != http.MethodDelete {
			e = errMethodNotAllowed(r.Method, "DELETE")
			break
		}
		if err := s.RevokeSession(strings.TrimPrefix(path, "/sessions/")); err != nil {
			e = err.(*Error)
			break
		}
		result = struct{}{}
	case path == "/reset":
		if r.Method != http.MethodPost {
			e = errMethodNotAllowed(r.Method, "POST")
			break
		}
		s.Reset()
		result = struct{}{}
	case path == "/faults":
		result, e = s.controlFaults(r)
	case path == "/clock":
		result, e = s.controlClock(r)
	case path == "/requests":
		if r.Method != http.MethodGet {
			e = errMethodNotAllowed(r.Method, "GET")
			break
		}
		result = map[string]any{"requests": s.Requests()}
	default:
		e = errNoRoute
	}
	if e != nil && e.envelope() != nil {
		writeError(w, e)
		return
	}
	b, err := json.Marshal(result)
	if err != nil {
		writeError(w, apiErr(CodeInternal, "could not encode the answer"))
		return
	}
	writeOK(w, b)
}

func (s *Server) controlAccounts(r *http.Request) (any, errorWriter) {
	switch r.Method {
	case http.MethodGet:
		return map[string]any{"accounts": s.Accounts()}, nil
	case http.MethodPost:
		obj, e := readJSONBody(r)
		if e != nil {
			return nil, e
		}
		username, password, e := credentials(obj)
		if e != nil {
			return nil, e
		}
		acc, err := s.AddAccount(username, password)
		if err != nil {
			return nil, err.(*Error)
		}
		return acc, nil
	}
	return nil, errMethodNotAllowed(r.Method, "GET, POST")
}

func (s *Server) controlSessions(r *http.Request) (any, errorWriter) {
	switch r.Method {
	case http.MethodGet:
		sessions := s.Sessions()
		if sessions == nil {
			sessions = []Session{}
		}
		return map[string]any{"sessions": sessions}, nil
	case http.MethodPost:
		obj, e := readJSONBody(r)
		if e != nil {
			return nil, e
		}
		username, e := stringField(obj, "username")
		if e != nil {
			return nil, e
		}
		accessTTL, e := durationField(obj, "access_ttl")
		if e != nil {
			return nil, e
		}
		refreshTTL, e := durationField(obj, "refresh_ttl")
		if e != nil {
			return nil, e
		}
		m, err := s.MintSession(username, accessTTL, refreshTTL)
		if err != nil {
			return nil, err.(*Error)
		}
		return map[string]any{"session_id": m.SessionID, "token": map[string]string{"access": m.Access, "refresh": m.Refresh}}, nil
	}
	return nil, errMethodNotAllowed(r.Method, "GET, POST")
}

// durationField reads an optional duration such as "90s" or "16m".
func durationField(obj map[string]json.RawMessage, name string) (time.Duration, *Error) {
	v, ok, e := optionalStringField(obj, name)
	if e != nil || !ok {
		return 0, e
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, apiErr(CodeInvalidField, "%s must be a duration such as \"90s\" or \"16m\"", name)
	}
	return d, nil
}

// faultJSON is Fault on the wire: durations as strings.
type faultJSON struct {
	Route       string  `json:"route"`
	Status      int     `json:"status"`
	Delay       string  `json:"delay"`
	Drop        bool    `json:"drop"`
	Truncate    bool    `json:"truncate"`
	Times       int     `json:"times"`
	Probability float64 `json:"probability"`
}

func toFaultJSON(f Fault) faultJSON {
	return faultJSON{Route: f.Route, Status: f.Status, Delay: f.Delay.String(), Drop: f.Drop,
		Truncate: f.Truncate, Times: f.Times, Probability: f.Probability}
}

func (s *Server) controlFaults(r *http.Request) (any, errorWriter) {
	switch r.Method {
	case http.MethodGet:
		list := []faultJSON{}
		for _, f := range s.Faults() {
			list = append(list, toFaultJSON(f))
		}
		return map[string]any{"faults": list}, nil
	case http.MethodDelete:
		s.ClearFaults()
		return struct{}{}, nil
	case http.MethodPost:
		obj, e := readJSONBody(r)
		if e != nil {
			return nil, e
		}
		f, e := decodeFault(obj)
		if e != nil {
			return nil, e
		}
		if e := s.faults.add(f); e != nil {
			return nil, e
		}
		return toFaultJSON(f), nil
	}
	return nil, errMethodNotAllowed(r.Method, "GET, POST, DELETE")
}

func decodeFault(obj map[string]json.RawMessage) (Fault, *Error) {
	var f Fault
	var e *Error
	if f.Route, e = stringField(obj, "route"); e != nil {
		return f, e
	}
	if f.Delay, e = durationField(obj, "delay"); e != nil {
		return f, e
	}
	for name, dst := range map[string]any{"status": &f.Status, "times": &f.Times, "drop": &f.Drop,
		"truncate": &f.Truncate, "probability": &f.Probability} {
		raw, ok := obj[name]
		if !ok || string(raw) == "null" {
			continue
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			return f, apiErr(CodeInvalidField, "%s has the wrong type", name)
		}
	}
	return f, nil
}

func (s *Server) controlClock(r *http.Request) (any, errorWriter) {
	switch r.Method {
	case http.MethodGet:
	case http.MethodPost:
		obj, e := readJSONBody(r)
		if e != nil {
			return nil, e
		}
		v, e := stringField(obj, "advance")
		if e != nil {
			return nil, e
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			return nil, apiErr(CodeInvalidField, "advance must be a duration such as \"16m\"")
		}
		if err := s.Advance(d); err != nil {
			return nil, err.(*Error)
		}
	default:
		return nil, errMethodNotAllowed(r.Method, "GET, POST")
	}
	return map[string]any{"now": s.Now().UTC().Format(time.RFC3339Nano)}, nil
}
