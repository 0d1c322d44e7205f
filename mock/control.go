package mock

import (
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
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
	is := s.newSession(acc, accessTTL, refreshTTL, false)
	return Minted{SessionID: is.sessionID, Access: string(is.access), Refresh: string(is.refresh)}, nil
}

// Reset brings the server back to its start: the seed accounts only, no
// sessions, tombstones, lockouts, faults or findings, an empty journal, the
// settings it started with, and the clock without any advance. Requests
// held by a collision rule go on.
func (s *Server) Reset() {
	s.sessions.clear()
	s.accounts.clear()
	s.faults.clear()
	s.journal.clear()
	s.findings.clear()
	s.clock.reset()
	_ = s.UpdateSettings(s.start0)
	if err := s.addSeeds(); err != nil {
		s.log.Error("reset: adding seed accounts", "err", err)
	}
}

// AddFault adds a fault rule; a rule that breaks Fault's rules, or one
// more than MaxFaults, is a CodeInvalidField error. AddFaultRule also
// answers the rule's id.
func (s *Server) AddFault(f Fault) error {
	_, err := s.AddFaultRule(f)
	return err
}

// AddFaultRule adds a fault rule as AddFault does and returns it as stored,
// with its ID.
func (s *Server) AddFaultRule(f Fault) (Fault, error) {
	stored, e := s.faults.add(f)
	if e != nil {
		return Fault{}, e
	}
	return stored, nil
}

// DeleteFault removes the fault rule with the given id (CodeNotFound if there is
// none); requests it holds in a collision go on.
func (s *Server) DeleteFault(id string) error {
	if !s.faults.remove(id) {
		return apiErr(CodeNotFound, "no fault rule %q", id)
	}
	return nil
}

// Faults lists the fault rules in force, in the order they are matched,
// with what remains of their Times.
func (s *Server) Faults() []Fault { return s.faults.list() }

// ClearFaults removes every fault rule.
func (s *Server) ClearFaults() { s.faults.clear() }

// Now is the time on the server's clock.
func (s *Server) Now() time.Time { return s.clock.Now() }

// Advance moves the server's clock forward by d (at most ten years, and at
// most MaxClockOffset in total until a Reset) and sweeps what has expired.
func (s *Server) Advance(d time.Duration) error {
	if d <= 0 || d > 10*365*24*time.Hour {
		return apiErr(CodeInvalidField, "advance must be a positive duration of at most 87600h")
	}
	if !s.clock.advance(d) {
		return apiErr(CodeInvalidField, "advance would take the clock more than %s past its start (the limit); reset it first",
			durationText(MaxClockOffset))
	}
	s.Sweep()
	return nil
}

// durationText writes d in hours, as Advance takes it.
func durationText(d time.Duration) string { return strconv.FormatInt(int64(d/time.Hour), 10) + "h" }

// Requests returns the journal of API requests, oldest first.
func (s *Server) Requests() []Request { return s.journal.list() }

// RequestsWhere returns the journal entries f selects, oldest first.
func (s *Server) RequestsWhere(f RequestFilter) []Request {
	out := []Request{}
	for _, r := range s.journal.list() {
		if f.match(r) {
			out = append(out, r)
		}
	}
	return out
}

// ClearRequests empties the journal.
func (s *Server) ClearRequests() { s.journal.clear() }

// ControlRoute is one route of the control plane, as GET /_mock/ lists it.
type ControlRoute struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	Does   string `json:"does"`
}

// controlRoutes lists the control plane's routes; a route added to control
// belongs here too (TestControlIndex requests each one).
var controlRoutes = []ControlRoute{
	{"GET", ControlPath + "/", "list these routes"},
	{"GET", ControlPath + "/accounts", "list the accounts (never a password hash)"},
	{"POST", ControlPath + "/accounts", "add an account {username, password}"},
	{"GET", ControlPath + "/sessions", "list the live sessions"},
	{"POST", ControlPath + "/sessions", "mint a session {username, access_ttl?, refresh_ttl?} without a password"},
	{"DELETE", ControlPath + "/sessions/{id}", "revoke a session"},
	{"POST", ControlPath + "/reset", "everything back to the start"},
	{"GET", ControlPath + "/faults", "list the fault rules"},
	{"POST", ControlPath + "/faults", "add a fault rule"},
	{"DELETE", ControlPath + "/faults", "delete every fault rule"},
	{"DELETE", ControlPath + "/faults/{id}", "delete one fault rule"},
	{"GET", ControlPath + "/clock", "the server's time"},
	{"POST", ControlPath + "/clock", "move the clock forward {advance}"},
	{"GET", ControlPath + "/requests", "the request journal (?route=, ?status=, ?since=)"},
	{"DELETE", ControlPath + "/requests", "empty the request journal"},
	{"GET", ControlPath + "/findings", "what the client under test did wrong (?kind=)"},
	{"DELETE", ControlPath + "/findings", "empty the findings"},
	{"GET", ControlPath + "/settings", "the settings in force"},
	{"POST", ControlPath + "/settings", "change settings {refresh_grace?, session_leak_threshold?}"},
	{"GET", ControlPath + "/tenants", "list the tenants"},
	{"POST", ControlPath + "/tenants", "make a tenant: an isolated mock under /t/{id}"},
	{"DELETE", ControlPath + "/tenants/{id}", "end a tenant"},
}

// ControlRoutes lists the control plane's routes, as GET /_mock/ answers.
func ControlRoutes() []ControlRoute { return slices.Clone(controlRoutes) }

// control serves the /_mock/ routes.
func (s *Server) control(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, ControlPath), "/")
	var (
		result any
		e      errorWriter
	)
	if e := unread(r, path); e != nil {
		writeError(w, e)
		return
	}
	switch {
	case path == "":
		if r.Method != http.MethodGet {
			e = errMethodNotAllowed(r.Method, "GET")
			break
		}
		result = map[string]any{"routes": controlRoutes}
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
	case strings.HasPrefix(path, "/faults/"):
		if r.Method != http.MethodDelete {
			e = errMethodNotAllowed(r.Method, "DELETE")
			break
		}
		if err := s.DeleteFault(strings.TrimPrefix(path, "/faults/")); err != nil {
			e = err.(*Error)
			break
		}
		result = struct{}{}
	case path == "/clock":
		result, e = s.controlClock(r)
	case path == "/tenants" || strings.HasPrefix(path, "/tenants/"):
		result, e = s.controlTenants(r, strings.TrimPrefix(path, "/tenants"))
	case path == "/requests":
		result, e = s.controlRequests(r)
	case path == "/findings":
		result, e = s.controlFindings(r)
	case path == "/settings":
		result, e = s.controlSettings(r)
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

// onlyFields refuses a member of obj not named in allowed: a typo such as
// "time" for "times" must not be stored as a rule that means something else.
func onlyFields(obj map[string]json.RawMessage, allowed ...string) *Error {
	return onlyNames("field", "this route takes no body", slices.Collect(maps.Keys(obj)), allowed)
}

// onlyParams is onlyFields for a query string.
func onlyParams(q url.Values, allowed ...string) *Error {
	return onlyNames("parameter", "this route takes none", slices.Collect(maps.Keys(q)), allowed)
}

// onlyNames refuses the first (in order) of names not in allowed, naming
// what is allowed, or saying none.
func onlyNames(what, none string, names, allowed []string) *Error {
	slices.Sort(names)
	for _, name := range names {
		if slices.Contains(allowed, name) {
			continue
		}
		if len(allowed) == 0 {
			return apiErr(CodeInvalidField, "unknown %s %q; %s", what, name, none)
		}
		return apiErr(CodeInvalidField, "unknown %s %q; the %ss are %s", what, name, what, strings.Join(allowed, ", "))
	}
	return nil
}

// unread refuses what a control route would otherwise ignore: a query
// parameter of a route that reads none, or a body with members sent to a
// route that reads no body (reset, a new tenant, a GET or a DELETE). A
// typo there must not pass for a request that was understood.
func unread(r *http.Request, path string) *Error {
	if path != "/requests" && path != "/findings" {
		if e := onlyParams(r.URL.Query()); e != nil {
			return e
		}
	}
	readsBody := r.Method == http.MethodPost && slices.Contains([]string{"/accounts", "/sessions", "/faults", "/clock", "/settings"}, path)
	if readsBody || r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	switch {
	case err != nil:
		return apiErr(CodeInvalidJSON, "could not read the request body")
	case len(body) > MaxBodyBytes:
		return errBodyTooLarge
	case len(bytes.TrimSpace(body)) == 0:
		return nil
	}
	obj, e := decodeObject(body)
	if e != nil {
		return e
	}
	return onlyFields(obj)
}

// readControlBody reads a control-plane body that may hold only the
// allowed members.
func readControlBody(r *http.Request, allowed ...string) (map[string]json.RawMessage, *Error) {
	obj, e := readJSONBody(r)
	if e != nil {
		return nil, e
	}
	if e := onlyFields(obj, allowed...); e != nil {
		return nil, e
	}
	return obj, nil
}

func (s *Server) controlAccounts(r *http.Request) (any, errorWriter) {
	switch r.Method {
	case http.MethodGet:
		return map[string]any{"accounts": s.Accounts()}, nil
	case http.MethodPost:
		obj, e := readControlBody(r, "username", "password")
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
		obj, e := readControlBody(r, "username", "access_ttl", "refresh_ttl")
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

// faultJSON is Fault on the wire: durations as strings, and remaining null
// for a rule without a bound.
type faultJSON struct {
	ID          string  `json:"id"`
	Route       string  `json:"route"`
	Status      int     `json:"status"`
	RetryAfter  string  `json:"retry_after"`
	Delay       string  `json:"delay"`
	Drop        bool    `json:"drop"`
	Truncate    bool    `json:"truncate"`
	After       bool    `json:"after"`
	Collide     int     `json:"collide"`
	Timeout     string  `json:"timeout"`
	Times       int     `json:"times"`
	Remaining   *int    `json:"remaining"`
	Held        int     `json:"held"`
	Probability float64 `json:"probability"`
}

func toFaultJSON(f Fault) faultJSON {
	j := faultJSON{ID: f.ID, Route: f.Route, Status: f.Status, RetryAfter: f.RetryAfter.String(), Delay: f.Delay.String(),
		Drop: f.Drop, Truncate: f.Truncate, After: f.After, Collide: f.Collide, Timeout: f.Timeout.String(),
		Times: f.Times, Held: f.Held, Probability: f.Probability}
	if f.Times > 0 {
		n := f.Remaining
		j.Remaining = &n
	}
	return j
}

// faultFields are the members of a fault rule a client may send.
var faultFields = []string{"route", "status", "retry_after", "delay", "drop", "truncate", "after", "collide", "timeout", "times", "probability"}

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
		obj, e := readControlBody(r, faultFields...)
		if e != nil {
			return nil, e
		}
		f, e := decodeFault(obj)
		if e != nil {
			return nil, e
		}
		stored, e := s.faults.add(f)
		if e != nil {
			return nil, e
		}
		return toFaultJSON(stored), nil
	}
	return nil, errMethodNotAllowed(r.Method, "GET, POST, DELETE")
}

func decodeFault(obj map[string]json.RawMessage) (Fault, *Error) {
	var f Fault
	var e *Error
	if f.Route, e = stringField(obj, "route"); e != nil {
		return f, e
	}
	for _, d := range []struct {
		name string
		dst  *time.Duration
	}{{"retry_after", &f.RetryAfter}, {"delay", &f.Delay}, {"timeout", &f.Timeout}} {
		if *d.dst, e = durationField(obj, d.name); e != nil {
			return f, e
		}
	}
	for _, v := range []struct {
		name string
		dst  any
	}{{"status", &f.Status}, {"drop", &f.Drop}, {"truncate", &f.Truncate}, {"after", &f.After},
		{"collide", &f.Collide}, {"times", &f.Times}, {"probability", &f.Probability}} {
		name, dst := v.name, v.dst
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
		obj, e := readControlBody(r, "advance")
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

func (s *Server) controlRequests(r *http.Request) (any, errorWriter) {
	switch r.Method {
	case http.MethodGet:
		q := r.URL.Query()
		if e := onlyParams(q, "route", "status", "since"); e != nil {
			return nil, e
		}
		var f RequestFilter
		if v := q.Get("route"); q.Has("route") {
			if routeBit(v) == 0 {
				return nil, apiErr(CodeInvalidField, "route must be one of register, login, refresh, logout")
			}
			f.Route = v
		}
		if q.Has("status") {
			n, err := strconv.Atoi(q.Get("status"))
			if err != nil || n < 0 || n > 599 {
				return nil, apiErr(CodeInvalidField, "status must be an HTTP status, or 0 for no answer")
			}
			f.Status = &n
		}
		if q.Has("since") {
			t, err := time.Parse(time.RFC3339Nano, q.Get("since"))
			if err != nil {
				return nil, apiErr(CodeInvalidField, "since must be an RFC 3339 time such as 2026-01-01T12:00:00Z")
			}
			f.Since = t
		}
		return map[string]any{"requests": s.RequestsWhere(f)}, nil
	case http.MethodDelete:
		s.ClearRequests()
		return struct{}{}, nil
	}
	return nil, errMethodNotAllowed(r.Method, "GET, DELETE")
}

func (s *Server) controlFindings(r *http.Request) (any, errorWriter) {
	switch r.Method {
	case http.MethodGet:
		q := r.URL.Query()
		if e := onlyParams(q, "kind"); e != nil {
			return nil, e
		}
		var kinds []FindingKind
		for _, v := range q["kind"] {
			for _, k := range strings.Split(v, ",") {
				if !validKind(FindingKind(k)) {
					return nil, apiErr(CodeInvalidField, "kind must be one of %s", kindNames())
				}
				kinds = append(kinds, FindingKind(k))
			}
		}
		return map[string]any{"findings": s.Findings(kinds...)}, nil
	case http.MethodDelete:
		s.ClearFindings()
		return struct{}{}, nil
	}
	return nil, errMethodNotAllowed(r.Method, "GET, DELETE")
}

func (s *Server) controlSettings(r *http.Request) (any, errorWriter) {
	switch r.Method {
	case http.MethodGet:
		return toSettingsJSON(s.Settings()), nil
	case http.MethodPost:
		obj, e := readControlBody(r, "refresh_grace", "session_leak_threshold")
		if e != nil {
			return nil, e
		}
		grace, hasGrace, e := optionalStringField(obj, "refresh_grace")
		if e != nil {
			return nil, e
		}
		var d time.Duration
		if hasGrace {
			var err error
			if d, err = time.ParseDuration(grace); err != nil {
				return nil, apiErr(CodeInvalidField, "refresh_grace must be a duration such as \"5s\"")
			}
		}
		var leak *int
		if raw, ok := obj["session_leak_threshold"]; ok && string(raw) != "null" {
			var n int
			if err := json.Unmarshal(raw, &n); err != nil {
				return nil, apiErr(CodeInvalidField, "session_leak_threshold must be an integer")
			}
			leak = &n
		}
		v, e := s.updateSettings(func(v *Settings) {
			if hasGrace {
				v.RefreshGrace = d
			}
			if leak != nil {
				v.SessionLeakThreshold = *leak
			}
		})
		if e != nil {
			return nil, e
		}
		return toSettingsJSON(v), nil
	}
	return nil, errMethodNotAllowed(r.Method, "GET, POST")
}
