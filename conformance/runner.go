package conformance

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dyor-exchange/dyorctl/api"
	"github.com/dyor-exchange/dyorctl/internal/contractcheck"
	"github.com/dyor-exchange/dyorctl/internal/safetext"
)

// need is what a case needs from the target beyond the account API.
type need int

const (
	needNothing need = iota
	needControl      // dyormock's /_mock/ control plane
)

func (n need) String() string {
	if n == needControl {
		return "control plane"
	}
	return ""
}

// kase is one case of the suite.
type kase struct {
	name   string
	needs  need
	checks string
	run    func(c *cx)
}

// maxAnswerBytes bounds how much of an answer is read.
const maxAnswerBytes = 1 << 20

// runner is one run of the suite against a target: the shared HTTP client,
// the limits, and what the run created (to log it out at the end and to
// keep its secrets out of every report).
type runner struct {
	base      string
	client    *http.Client
	gap       time.Duration // between two requests; 0 = no bound
	max       int
	lockoutN  int
	prefix    string
	noControl bool
	control   bool
	contract  *contractcheck.Checker

	mu        sync.Mutex
	next      time.Time // when the next request may go
	sent      int       // requests counted against max
	total     int       // every request
	seq       int
	accounts  int
	secrets   []string
	sessions  []*tracked
	bySID     map[string]*tracked
	loggedOut int
	final     int
}

// tracked is a session the run created.
type tracked struct {
	sid             string
	access, refresh string
	ended           bool
}

func newRunner(t Target) (*runner, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	base, _ := parseURL(t.URL)
	k, err := contractcheck.Load()
	if err != nil {
		return nil, err
	}
	r := &runner{base: base, client: t.Client, max: t.MaxRequests, lockoutN: t.LockoutThreshold,
		prefix: t.Prefix, noControl: t.NoControlPlane, contract: k, bySID: map[string]*tracked{}}
	if r.client == nil {
		r.client = &http.Client{Timeout: DefaultTimeout}
	}
	// Never follow a redirect: the answer itself is what is checked, and a
	// token must not travel to another host.
	c := *r.client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	r.client = &c
	switch {
	case t.Rate == 0:
		r.gap = time.Duration(float64(time.Second) / DefaultRate)
	case t.Rate > 0:
		r.gap = time.Duration(float64(time.Second) / t.Rate)
	}
	if r.max <= 0 {
		r.max = DefaultMaxRequests
	}
	if r.lockoutN <= 0 {
		r.lockoutN = DefaultLockoutThreshold
	}
	if r.prefix == "" {
		var b [4]byte
		_, _ = rand.Read(b[:])
		r.prefix = "conf-" + hex.EncodeToString(b[:]) + "-"
	}
	return r, nil
}

// probe checks that the target answers, and whether it serves the control
// plane (GET /_mock/clock answering {"now": RFC 3339}).
func (r *runner) probe(ctx context.Context) error {
	path := "/_mock/clock"
	if r.noControl {
		path = api.RefreshPath // no token: a harmless api.CodeNoToken
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.base+path, nil)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrTarget, err)
	}
	if err := r.wait(ctx); err != nil {
		return err
	}
	r.count(true)
	resp, err := r.client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %s does not answer: %v", ErrTarget, r.base, err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	resp.Body.Close()
	if r.noControl || resp.StatusCode != http.StatusOK {
		return nil
	}
	var env struct {
		OK     bool `json:"ok"`
		Result struct {
			Now string `json:"now"`
		} `json:"result"`
	}
	if json.Unmarshal(body, &env) == nil && env.OK {
		if _, err := time.Parse(time.RFC3339Nano, env.Result.Now); err == nil {
			r.control = true
		}
	}
	return nil
}

// wait holds a request until the rate allows it.
func (r *runner) wait(ctx context.Context) error {
	if r.gap == 0 {
		return ctx.Err()
	}
	r.mu.Lock()
	now := time.Now()
	at := r.next
	if at.Before(now) {
		at = now
	}
	r.next = at.Add(r.gap)
	r.mu.Unlock()
	if d := time.Until(at); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return ctx.Err()
}

// count counts a request; budget says whether it is one of the run's
// MaxRequests. It reports false when the budget is used up.
func (r *runner) count(budget bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if budget {
		if r.sent >= r.max {
			return false
		}
		r.sent++
	}
	r.total++
	return true
}

// secret records a password or token, to be kept out of every report.
func (r *runner) secret(s string) {
	if len(s) < 4 {
		return
	}
	r.mu.Lock()
	r.secrets = append(r.secrets, s)
	r.mu.Unlock()
}

// clean makes text fit for a report: no secret of the run, nothing shaped
// like a token, no terminal controls, at most max runes (0: no limit).
func (r *runner) clean(s string, max int) string {
	r.mu.Lock()
	secrets := slices.Clone(r.secrets)
	r.mu.Unlock()
	return safetext.Clean(s, max, secrets...)
}

// remember tracks a session the run was given tokens for.
func (r *runner) remember(p api.TokenPair) {
	r.secret(p.Access)
	r.secret(p.Refresh)
	sid := claimString(p.Refresh, api.ClaimSessionID)
	if sid == "" {
		sid = "token:" + p.Refresh
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if s, ok := r.bySID[sid]; ok {
		s.access, s.refresh = p.Access, p.Refresh
		return
	}
	s := &tracked{sid: sid, access: p.Access, refresh: p.Refresh}
	r.bySID[sid] = s
	r.sessions = append(r.sessions, s)
}

// ended marks the session of token as over (logged out or rotated).
func (r *runner) ended(token string) {
	sid := claimString(token, api.ClaimSessionID)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.sessions {
		if (sid != "" && s.sid == sid) || s.access == token || s.refresh == token {
			s.ended = true
		}
	}
}

// finish logs out every session the run created and did not end. A token
// already refused (expired, revoked) needs nothing more.
func (r *runner) finish() {
	r.mu.Lock()
	open := slices.DeleteFunc(slices.Clone(r.sessions), func(s *tracked) bool { return s.ended })
	r.final += len(open)
	r.mu.Unlock()
	for _, s := range open {
		ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
		tok := s.refresh
		if tok == "" {
			tok = s.access
		}
		if r.wait(ctx) == nil {
			r.count(false)
			req, err := http.NewRequestWithContext(ctx, http.MethodDelete, r.base+api.LogoutPath, nil)
			if err == nil {
				req.Header.Set("Authorization", "Bearer "+tok)
				if resp, err := r.client.Do(req); err == nil {
					_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswerBytes))
					resp.Body.Close()
					if resp.StatusCode == http.StatusOK {
						r.mu.Lock()
						r.loggedOut++
						r.mu.Unlock()
					}
				}
			}
		}
		cancel()
		s.ended = true
	}
}

func (r *runner) fill(rep *Report) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rep.Accounts, rep.Sessions, rep.Requests = r.accounts, len(r.sessions), r.total
	rep.FinalLogouts, rep.LoggedOut = r.final, r.loggedOut
}

// failure and skipped stop a case (see cx.failf and cx.skipf).
type failure struct{ msg string }
type skipped struct{ msg string }

// runCase runs one case and returns its result.
func (r *runner) runCase(ctx context.Context, k kase) (res Result) {
	c := &cx{r: r, ctx: ctx}
	start := time.Now()
	res = Result{Name: k.name, Status: Pass}
	defer func() {
		res.Duration = time.Since(start)
		res.Requests = c.requests
		res.Message = r.clean(res.Message, 0)
	}()
	if k.needs == needControl && !r.control {
		res.Status = Skip
		if r.noControl {
			res.Message = "needs the /_mock/ control plane, which this run was told not to use"
		} else {
			res.Message = "needs dyormock's /_mock/ control plane, which the target does not serve"
		}
		return res
	}
	func() {
		defer func() {
			switch v := recover().(type) {
			case nil:
			case failure:
				res.Status, res.Message = Fail, v.msg
			case skipped:
				res.Status, res.Message = Skip, v.msg
			default:
				res.Status, res.Message = Fail, fmt.Sprintf("the case panicked: %v", v)
			}
		}()
		k.run(c)
	}()
	if len(c.problems) > 0 && res.Status != Skip {
		msg := c.problems[0]
		if n := len(c.problems) - 1; n > 0 {
			msg += fmt.Sprintf(" (and %d more)", n)
		}
		if res.Status == Fail {
			res.Message += "; also " + msg
		} else {
			res.Status, res.Message = Fail, "want answers that keep api/openapi.yaml, got "+msg
		}
	}
	return res
}

// cx is what a case works with.
type cx struct {
	r        *runner
	ctx      context.Context
	requests int
	problems []string
}

// failf stops the case as failed. A message "CONTEXT: want …, got …" is
// reported as "want …, got … [CONTEXT]", so that every failure line reads
// "FAIL name: want …".
func (c *cx) failf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if i := strings.Index(msg, ": want "); i > 0 && !strings.HasPrefix(msg, "want ") {
		msg = msg[i+2:] + " [" + msg[:i] + "]"
	}
	panic(failure{msg})
}
func (c *cx) skipf(format string, args ...any) { panic(skipped{fmt.Sprintf(format, args...)}) }

// A request of a case.
type request struct {
	method, path string
	body         []byte
	hasBody      bool   // send body even if empty
	contentType  string // default application/json for a body; "-" for none
	auth         string // the Authorization header, if any
}

// answer is the server's answer to a request.
type answer struct {
	what   string // "POST /api/v1/account/login"
	status int
	header http.Header
	body   []byte
	env    api.Envelope
	isEnv  bool
}

// code is the error code of the answer (0 if none).
func (a *answer) code() api.Code {
	if a.env.Error == nil {
		return 0
	}
	return a.env.Error.Code
}

// String describes the answer without its body's secrets: "200 ok", or
// the status, the code and the message.
func (a *answer) String() string {
	switch {
	case !a.isEnv:
		return fmt.Sprintf("%d with a body that is not the envelope (%d bytes)", a.status, len(a.body))
	case a.env.OK:
		return fmt.Sprintf("%d ok", a.status)
	case a.env.Error != nil:
		return fmt.Sprintf("%d %d %q", a.status, a.env.Error.Code, a.env.Error.Message)
	}
	return fmt.Sprintf("%d ok=false without an error", a.status)
}

// do sends q and checks the exchange against the contract; a transport
// failure fails the case.
func (c *cx) do(q request) *answer {
	what := q.method + " " + q.path
	if err := c.r.wait(c.ctx); err != nil {
		c.failf("%s: stopped: %v", what, err)
	}
	if !c.r.count(true) {
		c.failf("%s: want at most %d requests in the run (Target.MaxRequests, --max-requests), got more", what, c.r.max)
	}
	c.requests++
	var body io.Reader
	if q.body != nil || q.hasBody {
		body = bytes.NewReader(q.body)
	}
	req, err := http.NewRequestWithContext(c.ctx, q.method, c.r.base+q.path, body)
	if err != nil {
		c.failf("%s: %v", what, err)
	}
	if body != nil && q.contentType != "-" {
		ct := q.contentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	if q.auth != "" {
		req.Header.Set("Authorization", q.auth)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.r.client.Do(req)
	if err != nil {
		c.failf("%s: want an answer, got none: %v", what, err)
	}
	respBody, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	resp.Body.Close()
	if err != nil {
		c.failf("%s: want a whole answer, got %d bytes then %v", what, len(respBody), err)
	}
	a := &answer{what: what, status: resp.StatusCode, header: resp.Header, body: respBody}
	a.isEnv = json.Unmarshal(respBody, &a.env) == nil && (a.env.OK || a.env.Error != nil)
	if a.env.Error != nil {
		// Whatever the server echoes, the report shows no secret.
		a.env.Error.Message = c.r.clean(a.env.Error.Message, 120)
	}

	// The contract's paths are relative to the base URL, which may have a
	// path of its own (a dyormock tenant's /t/{id}, a gateway's prefix).
	checked := req.Clone(context.Background())
	checked.URL.Path, checked.URL.RawPath = q.path, ""
	for _, p := range c.r.contract.Check(contractcheck.Exchange{Request: checked, RequestBody: q.body, Response: resp, Body: respBody}) {
		c.problems = append(c.problems, fmt.Sprintf("%s → %d: %s", what, resp.StatusCode, p))
	}
	c.track(q, a)
	return a
}

// track follows the sessions the run creates and ends.
func (c *cx) track(q request, a *answer) {
	if a.status != http.StatusOK || !a.env.OK {
		return
	}
	token, _ := strings.CutPrefix(q.auth, "Bearer ")
	switch q.path {
	case api.LoginPath, api.RefreshPath:
		var res api.TokenResult
		if json.Unmarshal(a.env.Result, &res) == nil && res.Token.Refresh != "" {
			if q.path == api.RefreshPath && token != "" {
				c.r.ended(token)
			}
			c.r.remember(res.Token)
		}
	case api.LogoutPath:
		if token != "" {
			c.r.ended(token)
		}
	}
}

// wantError fails unless a is the error envelope with code, at its status.
func (c *cx) wantError(a *answer, code api.Code) {
	if a.status != code.Status() || a.code() != code {
		c.failf("%s: want %d %d (%s), got %s", a.what, code.Status(), code, code.Meaning(), a)
	}
}

// wantOK fails unless a is a success, and returns its result.
func (c *cx) wantOK(a *answer) json.RawMessage {
	if a.status != http.StatusOK || !a.isEnv || !a.env.OK {
		c.failf("%s: want 200 ok, got %s", a.what, a)
	}
	return a.env.Result
}

// wantTokens fails unless a is a success with a token pair of two JWTs.
func (c *cx) wantTokens(a *answer) api.TokenPair {
	var res api.TokenResult
	if err := json.Unmarshal(c.wantOK(a), &res); err != nil {
		c.failf("%s: want {\"token\":{\"access\",\"refresh\"}}, got a result that is not: %v", a.what, err)
	}
	for name, tok := range map[string]string{"access": res.Token.Access, "refresh": res.Token.Refresh} {
		if _, _, err := decodeJWT(tok); err != nil {
			c.failf("%s: want the %s token to be a JWT, got one that is not: %v", a.what, name, err)
		}
	}
	return res.Token
}

// An account the run registered.
type account struct{ username, password string }

// name returns a new username of the run: the prefix, tag and a number.
func (c *cx) name(tag string) string {
	c.r.mu.Lock()
	c.r.seq++
	n := c.r.seq
	c.r.mu.Unlock()
	return fmt.Sprintf("%s%s-%d", c.r.prefix, tag, n)
}

// newPassword returns a random password of 20 bytes.
func (c *cx) newPassword() string {
	var b [9]byte
	_, _ = rand.Read(b[:])
	p := "pw-" + hex.EncodeToString(b[:])[:17]
	c.r.secret(p)
	return p
}

func credentialsBody(username, password string) []byte {
	b, _ := json.Marshal(api.Credentials{Username: username, Password: password})
	return b
}

// register sends register with username and password.
func (c *cx) register(username, password string) *answer {
	c.r.secret(password)
	a := c.do(request{method: http.MethodPost, path: api.RegisterPath, body: credentialsBody(username, password)})
	if a.status == http.StatusOK {
		c.r.mu.Lock()
		c.r.accounts++
		c.r.mu.Unlock()
	}
	return a
}

// account registers a new account of the run.
func (c *cx) account(tag string) account {
	acc := account{c.name(tag), c.newPassword()}
	c.wantOK(c.register(acc.username, acc.password))
	return acc
}

// loginAs sends login with username and password.
func (c *cx) loginAs(username, password string) *answer {
	c.r.secret(password)
	return c.do(request{method: http.MethodPost, path: api.LoginPath, body: credentialsBody(username, password)})
}

// login logs acc in and returns its tokens.
func (c *cx) login(acc account) api.TokenPair {
	return c.wantTokens(c.loginAs(acc.username, acc.password))
}

// refresh sends refresh with token.
func (c *cx) refresh(token string) *answer {
	return c.do(request{method: http.MethodGet, path: api.RefreshPath, auth: "Bearer " + token})
}

// logout sends logout with token.
func (c *cx) logout(token string) *answer {
	return c.do(request{method: http.MethodDelete, path: api.LogoutPath, auth: "Bearer " + token})
}

// The control plane.

// serverNow is the time on the target's clock.
func (c *cx) serverNow() time.Time {
	var res struct {
		Now time.Time `json:"now"`
	}
	a := c.do(request{method: http.MethodGet, path: "/_mock/clock"})
	if err := json.Unmarshal(c.wantOK(a), &res); err != nil {
		c.failf("%s: want {\"now\": RFC 3339}, got %v", a.what, err)
	}
	return res.Now
}

// advancePast moves the target's clock to just after t.
func (c *cx) advancePast(t time.Time) {
	d := t.Sub(c.serverNow()).Truncate(time.Second) + time.Second
	if d <= 0 {
		return
	}
	body, _ := json.Marshal(map[string]string{"advance": d.String()})
	c.wantOK(c.do(request{method: http.MethodPost, path: "/_mock/clock", body: body}))
}

// lockedUntil returns the locked_until of the account username.
func (c *cx) lockedUntil(username string) (time.Time, bool) {
	var res struct {
		Accounts []struct {
			Username    string     `json:"username"`
			LockedUntil *time.Time `json:"locked_until"`
		} `json:"accounts"`
	}
	a := c.do(request{method: http.MethodGet, path: "/_mock/accounts"})
	if err := json.Unmarshal(c.wantOK(a), &res); err != nil {
		c.failf("%s: want {\"accounts\":[…]}, got %v", a.what, err)
	}
	for _, acc := range res.Accounts {
		if acc.Username == username {
			if acc.LockedUntil == nil {
				return time.Time{}, false
			}
			return *acc.LockedUntil, true
		}
	}
	c.failf("%s: want the account %q listed, got a list without it", a.what, username)
	return time.Time{}, false
}

// liveSessions returns the ids of the target's live sessions.
func (c *cx) liveSessions() []string {
	var res struct {
		Sessions []struct {
			ID string `json:"id"`
		} `json:"sessions"`
	}
	a := c.do(request{method: http.MethodGet, path: "/_mock/sessions"})
	if err := json.Unmarshal(c.wantOK(a), &res); err != nil {
		c.failf("%s: want {\"sessions\":[…]}, got %v", a.what, err)
	}
	ids := make([]string, len(res.Sessions))
	for i, s := range res.Sessions {
		ids[i] = s.ID
	}
	return ids
}

// Tokens.

// decodeJWT returns the header and the claims of a JWT, unverified: the
// suite does not know the server's secret.
func decodeJWT(tok string) (header, claims map[string]any, err error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, nil, fmt.Errorf("%d parts, want 3", len(parts))
	}
	for i, dst := range []*map[string]any{&header, &claims} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			return nil, nil, fmt.Errorf("part %d is not base64url: %v", i+1, err)
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(dst); err != nil {
			return nil, nil, fmt.Errorf("part %d is not a JSON object", i+1)
		}
	}
	if parts[2] == "" {
		return nil, nil, errors.New("no signature")
	}
	return header, claims, nil
}

// claimString returns a string claim of tok ("" if none).
func claimString(tok, name string) string {
	_, claims, err := decodeJWT(tok)
	if err != nil {
		return ""
	}
	s, _ := claims[name].(string)
	return s
}

// claimTime returns a NumericDate claim of tok.
func claimTime(tok, name string) (time.Time, bool) {
	_, claims, err := decodeJWT(tok)
	if err != nil {
		return time.Time{}, false
	}
	n, ok := claims[name].(json.Number)
	if !ok {
		return time.Time{}, false
	}
	f, err := n.Float64()
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0), true
}

// Text.

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return s != ""
}
