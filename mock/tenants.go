package mock

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/dyor-exchange/dyorctl/api"
)

// TenantPrefix is the path prefix under which a server serves its
// tenants: a tenant's base URL is the server's URL + "/t/" + its id.
const TenantPrefix = "/t/"

// Defaults of the tenant limits.
const (
	DefaultMaxTenants    = 1000
	DefaultTenantIdleTTL = time.Hour
)

// CodeTooManyTenants answers a tenant asked for beyond the limit: 429, so
// that a CI worker may try again once others have ended theirs.
const CodeTooManyTenants = api.CodeTooManyTenants

// Tenant is a tenant as the control plane lists it.
type Tenant struct {
	ID      string `json:"id"`
	BaseURL string `json:"base_url"`
}

// tenants are the tenants of a server, in the order they were made.
type tenants struct {
	mu   sync.Mutex
	byID map[string]*Server
	list []*Server
}

// NewTenant creates a tenant of s: a server of its own, with the options
// of s (seeded like a new server), its own signing secret and its own
// accounts, sessions, clock, faults, journal and lockouts, served by s
// under URL/t/{id}. Its URL is s's URL + "/t/" + its id (set again when s
// starts serving); its Go methods work as any server's; Close (or
// s.DeleteTenant) ends it. A tenant saves no state file and has no tenants
// itself, and s.Reset leaves the tenants of s alone. Beyond WithMaxTenants tenants it returns
// a CodeTooManyTenants error; a tenant that has had no request for WithTenantIdleTTL
// ends by itself.
func (s *Server) NewTenant() (*Server, error) {
	if s.parent != nil {
		return nil, errNestedTenants
	}
	s.closeMu.Lock()
	closed := s.closed
	s.closeMu.Unlock()
	if closed {
		return nil, errors.New("mock: the server is closed")
	}
	if s.cfg.maxTenants == 0 {
		return nil, errTenantsOff
	}
	s.expireIdleTenants()
	id := newID()
	cfg := s.cfg
	cfg.secret = nil // tokens of one tenant are refused by every other
	cfg.statePath, cfg.saveInterval = "", 0
	cfg.maxTenants = 0
	cfg.logger = s.log.With("tenant", id)

	ts := &s.tenants
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if len(ts.list) >= s.cfg.maxTenants {
		return nil, apiErr(CodeTooManyTenants, "tenant limit reached: %d tenants exist; end one (DELETE /_mock/tenants/{id}) or raise the limit (--max-tenants)", len(ts.list))
	}
	t, err := newServer(cfg)
	if err != nil {
		return nil, err
	}
	t.parent, t.tenantID = s, id
	t.URL = s.URL + TenantPrefix + id
	t.used.Store(s.cfg.now().UnixNano())
	if ts.byID == nil {
		ts.byID = map[string]*Server{}
	}
	ts.byID[id] = t
	ts.list = append(ts.list, t)
	return t, nil
}

// TenantID is the id of a tenant, "" for a server that is none.
func (s *Server) TenantID() string { return s.tenantID }

// Tenants lists the tenants of s, oldest first.
func (s *Server) Tenants() []Tenant {
	s.expireIdleTenants()
	ts := &s.tenants
	ts.mu.Lock()
	defer ts.mu.Unlock()
	out := make([]Tenant, 0, len(ts.list))
	for _, t := range ts.list {
		out = append(out, Tenant{ID: t.tenantID, BaseURL: t.URL})
	}
	return out
}

// DeleteTenant ends a tenant, as its Close does; an unknown id is a
// CodeNotFound error.
func (s *Server) DeleteTenant(id string) error {
	t := s.tenant(id)
	if t == nil {
		return errNoTenant(CodeNotFound, id)
	}
	t.Close()
	return nil
}

// tenant returns the live tenant id, or nil; a tenant found idle past its
// TTL is ended here.
func (s *Server) tenant(id string) *Server {
	ts := &s.tenants
	ts.mu.Lock()
	t := ts.byID[id]
	ts.mu.Unlock()
	if t != nil && s.idle(t, s.cfg.now().UnixNano()) {
		t.Close()
		return nil
	}
	return t
}

// idle reports whether tenant t has had no request for the idle TTL.
func (s *Server) idle(t *Server, now int64) bool {
	ttl := s.cfg.tenantIdleTTL
	return ttl > 0 && now-t.used.Load() >= int64(ttl)
}

// expireIdleTenants ends every tenant idle past the TTL.
func (s *Server) expireIdleTenants() {
	if s.cfg.tenantIdleTTL <= 0 {
		return
	}
	now := s.cfg.now().UnixNano()
	var idle []*Server
	ts := &s.tenants
	ts.mu.Lock()
	for _, t := range ts.list {
		if s.idle(t, now) {
			idle = append(idle, t)
		}
	}
	ts.mu.Unlock()
	for _, t := range idle {
		t.Close()
	}
}

// sweepTenants sweeps every tenant's sessions and ends the idle ones; it
// runs with the server's own sweep.
func (s *Server) sweepTenants() {
	s.expireIdleTenants()
	ts := &s.tenants
	ts.mu.Lock()
	live := append([]*Server(nil), ts.list...)
	ts.mu.Unlock()
	for _, t := range live {
		t.Sweep()
	}
}

// remove forgets tenant t, if it is still the one under id.
func (ts *tenants) remove(id string, t *Server) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.byID[id] != t {
		return
	}
	delete(ts.byID, id)
	for i, x := range ts.list {
		if x == t {
			ts.list = append(ts.list[:i], ts.list[i+1:]...)
			break
		}
	}
}

// closeTenants ends every tenant, when s closes.
func (s *Server) closeTenants() {
	ts := &s.tenants
	ts.mu.Lock()
	all := ts.list
	ts.list, ts.byID = nil, nil
	ts.mu.Unlock()
	for _, t := range all {
		t.Close()
	}
}

// serveTenant hands a request under /t/{id}/ to that tenant, with the
// prefix taken off the path, as http.StripPrefix does.
func (s *Server) serveTenant(w http.ResponseWriter, r *http.Request) {
	id, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, TenantPrefix), "/")
	t := s.tenant(id)
	if t == nil {
		writeError(w, errNoTenant(CodeNoRoute, id))
		return
	}
	t.used.Store(s.cfg.now().UnixNano())
	r2 := new(http.Request)
	*r2 = *r
	r2.URL = new(url.URL)
	*r2.URL = *r.URL
	r2.URL.Path, r2.URL.RawPath = "/"+rest, ""
	t.handler.ServeHTTP(w, r2)
}

var (
	errNestedTenants = apiErr(CodeNoRoute, "a tenant has no tenants of its own; ask the server that made it")
	errTenantsOff    = apiErr(CodeNoRoute, "tenants are turned off on this server (--max-tenants 0)")
)

// errNoTenant names the id only when it is one this server could have
// made, so that the message stays short and plain.
func errNoTenant(code api.Code, id string) *Error {
	if _, ok := parseID(id); !ok {
		return apiErr(code, "no tenant with that id")
	}
	return apiErr(code, "no tenant %q: it was never made here, was ended, or expired after its idle time", id)
}

// controlTenants serves /_mock/tenants (rest "") and /_mock/tenants/{id}.
func (s *Server) controlTenants(r *http.Request, rest string) (any, errorWriter) {
	if s.parent != nil {
		return nil, errNestedTenants
	}
	base := requestBase(r, s.URL)
	if rest == "" {
		switch r.Method {
		case http.MethodGet:
			list := s.Tenants()
			for i := range list {
				list[i].BaseURL = base + TenantPrefix + list[i].ID
			}
			return map[string]any{"tenants": list}, nil
		case http.MethodPost:
			t, err := s.NewTenant()
			if err != nil {
				var e *Error
				if errors.As(err, &e) {
					return nil, e
				}
				return nil, apiErr(CodeInternal, "could not make a tenant")
			}
			return Tenant{ID: t.tenantID, BaseURL: base + TenantPrefix + t.tenantID}, nil
		}
		return nil, errMethodNotAllowed(r.Method, "GET, POST")
	}
	if r.Method != http.MethodDelete {
		return nil, errMethodNotAllowed(r.Method, "DELETE")
	}
	if err := s.DeleteTenant(strings.TrimPrefix(rest, "/")); err != nil {
		return nil, err.(*Error)
	}
	return struct{}{}, nil
}

// requestBase is the scheme and host a request was sent to, so that a
// base URL handed out works for that client (in another container, say);
// fallback when the request names no host.
func requestBase(r *http.Request, fallback string) string {
	if r.Host == "" {
		return fallback
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// setTenantURLs gives every tenant its URL under s's, once s has one.
func (s *Server) setTenantURLs() {
	ts := &s.tenants
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for _, t := range ts.list {
		t.URL = s.URL + TenantPrefix + t.tenantID
	}
}
