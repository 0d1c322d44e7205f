// Package conformance checks that a server keeps the DYOR account API's
// contract (package api and api/openapi.yaml), black-box, over HTTP. It is
// the same suite for dyormock and for the real backend, so that a test
// double that passes it can be trusted to behave like the server it
// stands in for.
//
// In a Go test, against any server:
//
//	func TestBackendConforms(t *testing.T) {
//		conformance.Run(t, conformance.Target{URL: "https://staging.example"})
//	}
//
// runs one subtest per case. Outside Go, `dyormock conformance --url URL`
// runs the same cases and prints one line per case, JSON or JUnit XML.
//
// The suite is safe to point at a real server: it only touches accounts it
// registers itself (usernames starting with a random, recognisable prefix,
// "conf-<random>-"), locks only those, sends at most Target.MaxRequests
// requests at no more than Target.Rate a second, logs out every session it
// created when it ends, and never reports a password or a token. Accounts
// cannot be deleted through the API, so they stay behind.
//
// Cases that need time travel or the control plane (token expiry, the end
// of a lockout, sweeping) run only when the target serves dyormock's
// /_mock/ control plane, and are skipped, with the reason, when it does not.
// They move the target's clock forward, which ages every session on it:
// point them at a dyormock of your own, or set Target.NoControlPlane.
package conformance

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Defaults of a Target.
const (
	DefaultRate             = 10  // requests a second
	DefaultMaxRequests      = 600 // per run, the final logouts aside
	DefaultLockoutThreshold = 5   // the contract's default
	DefaultTimeout          = 10 * time.Second
)

// Target is the server under test and the limits of the run.
type Target struct {
	// URL is the server's base URL, e.g. "http://127.0.0.1:8080" (the API
	// is under URL + "/api/v1/account").
	URL string
	// Client sends the requests (default: one with a Timeout of
	// DefaultTimeout). Its redirects are not followed.
	Client *http.Client
	// Rate bounds the requests a second (0: DefaultRate; negative: no bound,
	// for in-process tests).
	Rate float64
	// MaxRequests bounds the requests of the run (0: DefaultMaxRequests).
	// A case that would pass it fails; the final logouts are not counted.
	MaxRequests int
	// LockoutThreshold is the target's N: the Nth consecutive wrong
	// password locks an account (0: DefaultLockoutThreshold). The lockout
	// cases send N+1 wrong passwords to an account of their own.
	LockoutThreshold int
	// Prefix starts every username the suite registers (default
	// "conf-" + 8 random hex digits + "-"). At most 20 bytes of printable
	// ASCII.
	Prefix string
	// NoControlPlane keeps the suite off /_mock/ even when the target
	// serves it: the cases that need it are skipped.
	NoControlPlane bool
}

// A Status is the outcome of a case.
type Status string

// The outcomes.
const (
	Pass Status = "pass"
	Fail Status = "fail"
	Skip Status = "skip"
)

// Result is the outcome of one case. Message says why it failed ("want …,
// got …") or was skipped; it never holds a password or a token.
type Result struct {
	Name     string        `json:"name"`
	Status   Status        `json:"status"`
	Message  string        `json:"message,omitempty"`
	Duration time.Duration `json:"duration_ns"`
	Requests int           `json:"requests"`
}

// Report is the outcome of a run.
type Report struct {
	URL          string        `json:"url"`
	ControlPlane bool          `json:"control_plane"` // the target serves /_mock/ and the suite used it
	Prefix       string        `json:"prefix"`        // of every username the run registered
	Accounts     int           `json:"accounts"`      // accounts the run registered
	Sessions     int           `json:"sessions"`      // sessions it was given tokens for
	FinalLogouts int           `json:"final_logouts"` // of those, still open at the end: the final logouts sent
	LoggedOut    int           `json:"logged_out"`    // final logouts answered 200 (the rest were already refused: expired, revoked)
	Requests     int           `json:"requests"`      // requests sent, the final logouts included
	Started      time.Time     `json:"started"`
	Duration     time.Duration `json:"duration_ns"`
	Results      []Result      `json:"results"`
	Passed       int           `json:"passed"`
	Failed       int           `json:"failed"`
	Skipped      int           `json:"skipped"`
}

// CaseInfo describes a case of the suite.
type CaseInfo struct {
	Name string
	// Needs says what the case needs from the target beyond the four
	// routes: "" (nothing), or "control plane" (/_mock/: the clock or the
	// session list).
	Needs string
	// Checks says what the case checks, in one sentence.
	Checks string
}

// Cases lists the cases in the order they run.
func Cases() []CaseInfo {
	out := make([]CaseInfo, len(suite))
	for i, c := range suite {
		out[i] = CaseInfo{Name: c.name, Needs: c.needs.String(), Checks: c.checks}
	}
	return out
}

// Options select cases and follow a run.
type Options struct {
	// Run, if set, selects the cases whose name it matches.
	Run *regexp.Regexp
	// OnResult, if set, is called with each result as its case ends.
	OnResult func(Result)
}

// ErrTarget is wrapped by Check's error when the target cannot be tested
// at all: a URL that is not http(s), or a server that does not answer.
var ErrTarget = errors.New("conformance: unusable target")

// Check runs the suite against target and returns the report. Its error is
// set only when no case could run (see ErrTarget); failed cases are in the
// report. ctx ending stops the run: the cases left are not run, and the
// final logouts are still sent.
func Check(ctx context.Context, target Target, opts Options) (*Report, error) {
	r, err := newRunner(target)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if err := r.probe(ctx); err != nil {
		r.finish()
		return nil, err
	}
	rep := &Report{URL: r.base, ControlPlane: r.control, Prefix: r.prefix, Started: start}
	for _, c := range suite {
		if opts.Run != nil && !opts.Run.MatchString(c.name) {
			continue
		}
		if ctx.Err() != nil {
			break
		}
		res := r.runCase(ctx, c)
		rep.add(res)
		if opts.OnResult != nil {
			opts.OnResult(res)
		}
	}
	r.finish()
	r.fill(rep)
	rep.Duration = time.Since(start)
	return rep, nil
}

func (rep *Report) add(res Result) {
	rep.Results = append(rep.Results, res)
	switch res.Status {
	case Pass:
		rep.Passed++
	case Fail:
		rep.Failed++
	case Skip:
		rep.Skipped++
	}
}

// Validate reports a Target that cannot be used: a URL that is not
// http(s)://HOST[:PORT][/PATH], or a Prefix longer than 20 bytes or not
// printable ASCII.
func (t Target) Validate() error {
	if _, err := parseURL(t.URL); err != nil {
		return err
	}
	if t.Prefix != "" && (len(t.Prefix) > 20 || !printableASCII(t.Prefix)) {
		return fmt.Errorf("%w: prefix %q: want at most 20 bytes of printable ASCII without spaces", ErrTarget, t.Prefix)
	}
	return nil
}

// parseURL checks a target's URL and returns it without a trailing slash.
func parseURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	// The URL is quoted back only when it cannot hold a password.
	shown := "the URL"
	if err == nil && u.User == nil {
		shown = fmt.Sprintf("URL %q", raw)
	}
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%w: %s: want http://HOST[:PORT] or https://…", ErrTarget, shown)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("%w: %s: want no user, query or fragment", ErrTarget, shown)
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}
