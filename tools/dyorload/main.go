// Command dyorload is the load harness for dyormock (not shipped in
// releases). It drives one route or a mix with N workers for a duration,
// each worker owning its own connection and session chain, and in the same
// run measures the floor: a bare net/http handler answering fixed JSON,
// started on loopback by the tool and loaded by the same client code.
//
//	go run ./tools/dyorload -route refresh -workers 32 -duration 10s
//	go run ./tools/dyorload -url http://127.0.0.1:8080 -route mix -o json
//	go run ./tools/dyorload -client net/http   # workers on net/http's client
//
// Without -url it starts dyormock's server in this process, and the floor
// runs in this process too; with -url (dyormock in its own process) the
// floor runs in its own process, so that both pay the same cost of two
// processes sharing the machine (-floor-in overrides this).
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/dyor-exchange/dyorctl/mock"
)

type config struct {
	url          string
	route        string
	workers      int
	duration     time.Duration
	requests     int // per worker and target; when set, it bounds a run instead of duration
	floor        bool
	floorProcess bool // serve the floor from a child process
	output       string
	loginDelay   time.Duration // for delay-check
	bcryptCost   int
	runs         int // passes over every target
	maxSessions  int
	client       string // "wire" or "net/http"

	// The figures at CI scale (ci.go).
	dyormock    string // -route startup: the binary to exec ("" builds one)
	execs       int    // -route startup: execs of each program per pass
	tenants     int    // -route tenants: tenants created per pass
	defaultURL  string // -route login-repeat: a server at dyormock's default options
	inProcess   bool   // the server runs in this process (its heap can be read)
	bareBin     string // built once per run by -route startup
	dyormockBin string
}

func main() {
	var c config
	flag.StringVar(&c.url, "url", "", "base URL of a running dyormock (default: start one in process)")
	flag.StringVar(&c.route, "route", "refresh", "route to load: register, login, refresh, logout, mix, delay-check (refresh with and without delayed logins in flight), login-repeat (one account's logins at the default options, after its first), startup (exec-to-ready of dyormock against a bare Go program), or tenants (creating them)")
	flag.StringVar(&c.dyormock, "dyormock", "", "the dyormock binary that -route startup execs (default: build ./cmd/dyormock of the module here, in the same run as the bare program)")
	flag.IntVar(&c.execs, "execs", 20, "-route startup: execs of each program per pass")
	flag.IntVar(&c.tenants, "tenants", mock.DefaultMaxTenants, "-route tenants: tenants created per pass")
	flag.IntVar(&c.workers, "workers", 32, "concurrent workers, one connection and one session chain each")
	flag.DurationVar(&c.duration, "duration", 5*time.Second, "how long to load each target")
	flag.IntVar(&c.requests, "requests", 0, "requests per worker and target: when set, each target ends after that many instead of after -duration")
	flag.BoolVar(&c.floor, "floor", true, "also measure the floor (fixed JSON from a bare net/http handler)")
	floorWhere := flag.String("floor-in", "auto", "where the floor runs: process (its own process, as dyormock is with -url), same (this process, as the in-process server is), or auto (matching the server)")
	serve := flag.Bool("serve-floor", false, "serve the floor, print its URL and run until stdin closes (used by -floor-in process)")
	flag.StringVar(&c.output, "o", "text", "output: text or json")
	flag.IntVar(&c.runs, "runs", 1, "passes over the floor and the routes, alternating; figures are medians")
	flag.DurationVar(&c.loginDelay, "login-delay", 0, "the delay of the login fault in -route delay-check (default: 10s longer than -duration, so that no delayed login finishes, and runs bcrypt, while refresh is measured)")
	flag.IntVar(&c.bcryptCost, "bcrypt-cost", 4, "bcrypt cost of the in-process server")
	flag.IntVar(&c.maxSessions, "logout-sessions", 200000, "sessions minted in advance for the logout route")
	flag.StringVar(&c.client, "client", "wire", "HTTP client of the workers: wire (a lean HTTP/1.1 keep-alive client, as wrk uses) or net/http")
	flag.Parse()
	if *serve {
		if err := serveFloor(); err != nil {
			fmt.Fprintln(os.Stderr, "dyorload -serve-floor:", err)
			os.Exit(1)
		}
		return
	}
	switch *floorWhere {
	case "auto":
		c.floorProcess = c.url != ""
	case "process", "same":
		c.floorProcess = *floorWhere == "process"
	default:
		fmt.Fprintf(os.Stderr, "dyorload: unknown -floor-in %q: want process, same or auto\n", *floorWhere)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rep, err := run(ctx, c)
	if err != nil {
		fmt.Fprintln(os.Stderr, "dyorload:", err)
		os.Exit(1)
	}
	if c.output == "json" {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
		return
	}
	rep.writeText(os.Stdout)
}

// Result is the outcome of loading one target.
type Result struct {
	Target     string  `json:"target"`
	Requests   int     `json:"requests"`
	Failures   int     `json:"failures"`
	Seconds    float64 `json:"seconds"`
	Throughput float64 `json:"throughput_rps"`
	P50ms      float64 `json:"p50_ms"`
	P99ms      float64 `json:"p99_ms"`
	Maxms      float64 `json:"max_ms"`
	Ratio      float64 `json:"ratio,omitempty"`
	// HeapPerTenant is the heap one tenant holds, for -route tenants
	// against the server in this process.
	HeapPerTenant float64 `json:"heap_bytes_per_tenant,omitempty"`
	RatioTo       string  `json:"ratio_to,omitempty"` // the baseline of Ratio: "floor", or the bcrypt bound for login
	FirstError    string  `json:"first_error,omitempty"`
	Passes        []Pass  `json:"passes,omitempty"` // with -runs > 1: each pass's figures
}

// Pass is one pass's figures of a target, when figures are medians.
type Pass struct {
	Throughput float64 `json:"throughput_rps"`
	P99ms      float64 `json:"p99_ms"`
	Ratio      float64 `json:"ratio,omitempty"`
}

// Report is the whole run.
type Report struct {
	Server   string   `json:"server"` // "in-process" or the -url
	Floor    string   `json:"floor"`  // where the floor ran: "in-process" or "own process"
	Client   string   `json:"client"`
	Runs     int      `json:"runs"` // passes; figures are medians over them
	Workers  int      `json:"workers"`
	Duration string   `json:"duration"`
	Route    string   `json:"route"`
	Results  []Result `json:"results"`
}

func (r Report) writeText(w io.Writer) {
	switch r.Route {
	case "startup":
		fmt.Fprintln(w, "exec to readiness line, alternating the two programs; ratio of the medians")
	case "tenants":
		fmt.Fprintf(w, "tenants created one after another on one connection; server %s\n", r.Server)
	default:
		fmt.Fprintf(w, "%d workers (%s client), %s per target; server %s, floor %s\n", r.Workers, r.Client, r.Duration, r.Server, r.Floor)
	}
	if r.Runs > 1 {
		fmt.Fprintf(w, "medians of %d passes (requests and failures are totals, max the largest)\n", r.Runs)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\trequests\tfailures\treq/s\tp50 ms\tp99 ms\tmax ms\tratio\t")
	for _, res := range r.Results {
		ratio := "-"
		if res.Ratio > 0 {
			ratio = fmt.Sprintf("%.2f x %s", res.Ratio, res.RatioTo)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.0f\t%.3f\t%.3f\t%.3f\t%s\t\n", res.Target, res.Requests, res.Failures,
			res.Throughput, res.P50ms, res.P99ms, res.Maxms, ratio)
	}
	tw.Flush()
	for _, res := range r.Results {
		if res.HeapPerTenant > 0 {
			fmt.Fprintf(w, "%s: %.0f heap bytes per tenant\n", res.Target, res.HeapPerTenant)
		}
	}
	for _, res := range r.Results {
		if res.FirstError != "" {
			fmt.Fprintf(w, "%s: first failure: %s\n", res.Target, res.FirstError)
		}
	}
}

func run(ctx context.Context, c config) (Report, error) {
	if c.workers < 1 || c.duration <= 0 && c.requests <= 0 || c.runs < 1 || c.requests < 0 {
		return Report{}, errors.New("-workers, -runs and -duration (or -requests) must be positive")
	}
	if c.client != "wire" && c.client != "net/http" {
		return Report{}, fmt.Errorf("unknown -client %q: want wire or net/http", c.client)
	}
	server := c.url
	if c.url == "" {
		server = "in-process"
		// Without the login cache: the login route measures bcrypt.
		url, stop, err := serveInProcess(mock.WithBcryptCost(c.bcryptCost), mock.WithLockout(0, 0),
			mock.WithLoginCache(false), mock.WithMaxTenants(max(c.tenants, mock.DefaultMaxTenants)))
		if err != nil {
			return Report{}, err
		}
		defer stop()
		c.url, c.inProcess = url, true
		if c.route == "login-repeat" {
			// At dyormock's default options, as the figure is defined.
			url, stop, err := serveInProcess()
			if err != nil {
				return Report{}, err
			}
			defer stop()
			c.defaultURL = url
		}
	}
	if c.defaultURL == "" {
		c.defaultURL = c.url
	}
	if c.route == "startup" {
		dir, err := os.MkdirTemp("", "dyorload-startup-")
		if err != nil {
			return Report{}, err
		}
		defer os.RemoveAll(dir)
		if c.bareBin, c.dyormockBin, err = startupBinaries(ctx, c, dir); err != nil {
			return Report{}, err
		}
	}
	c.url = strings.TrimSuffix(c.url, "/")
	control := &httpClient{client: newClient(1), base: c.url} // for the control plane
	rep := Report{Server: server, Floor: "in-process", Client: c.client, Workers: c.workers, Duration: c.duration.String(), Route: c.route}

	if c.floorProcess {
		rep.Floor = "own process"
	}
	var runs [][]Result
	for pass := range c.runs {
		res, err := measureOnce(ctx, c, control, pass)
		if err != nil {
			return rep, err
		}
		runs = append(runs, res)
	}
	rep.Runs = c.runs
	rep.Results = medians(runs)
	return rep, nil
}

// measureOnce measures the floor and then each route once, with ratios
// against the floor (or, for login, the bcrypt bound) of the same pass.
func measureOnce(ctx context.Context, c config, control requester, pass int) ([]Result, error) {
	switch c.route { // measured against their own baselines
	case "startup":
		return measureStartup(ctx, c, c.bareBin, c.dyormockBin)
	case "tenants":
		return measureTenants(ctx, c, control, c.inProcess)
	}
	var results []Result
	var floor *Result
	if c.floor {
		res, err := loadFloor(ctx, c)
		if err != nil {
			return nil, err
		}
		results = append(results, res)
		floor = &res
	}
	measure := func(route string) (Result, error) {
		if route != "refresh+delayed-logins" {
			return load(ctx, c, route)
		}
		res, err := withDelayedLogins(ctx, c, control, func() (Result, error) { return load(ctx, c, "refresh") })
		res.Target = route
		return res, err
	}
	routes := []string{c.route}
	switch c.route {
	case "mix":
		routes = []string{"refresh", "logout", "login", "register"}
	case "delay-check":
		routes = []string{"refresh", "refresh+delayed-logins"}
	}
	measured := make([]Result, len(routes))
	order := make([]int, len(routes))
	for i := range order {
		order[i] = i
	}
	if c.route == "delay-check" && pass%2 == 1 {
		// Every refresh leaves a tombstone, so the server drifts over a
		// run: alternate which goes first, so that neither is favoured.
		slices.Reverse(order)
	}
	for _, i := range order {
		res, err := measure(routes[i])
		if err != nil {
			return nil, err
		}
		measured[i] = res
	}
	for i, res := range measured {
		if floor != nil && floor.Throughput > 0 {
			res.Ratio, res.RatioTo = res.Throughput/floor.Throughput, "floor"
		}
		switch routes[i] {
		case "refresh+delayed-logins":
			// The question is whether the fault costs refresh anything.
			if plain := measured[0]; plain.Throughput > 0 {
				res.Ratio, res.RatioTo = res.Throughput/plain.Throughput, "refresh"
			}
		case "login":
			// Login is bcrypt by design: its ceiling is the bcrypt bound.
			bound := bcryptBound(ctx, c)
			res.Ratio, res.RatioTo = res.Throughput/bound.Throughput, bound.Target
			results = append(results, res, bound)
			continue
		}
		results = append(results, res)
	}
	return results, nil
}

// medians combines passes that measured the same targets in the same order:
// each figure is the median over the passes (the ratio is the median of
// each pass's own ratio), max is the largest, and counts add up. With more
// than one pass, each pass's throughput, p99 and ratio are kept in Passes.
func medians(runs [][]Result) []Result {
	if len(runs) == 1 {
		return runs[0]
	}
	out := make([]Result, len(runs[0]))
	for i := range out {
		col := make([]Result, len(runs))
		for r := range runs {
			col[r] = runs[r][i]
		}
		m := col[0]
		m.Requests, m.Failures, m.Seconds = 0, 0, 0
		for _, x := range col {
			m.Requests += x.Requests
			m.Failures += x.Failures
			m.Seconds += x.Seconds
			m.Maxms = max(m.Maxms, x.Maxms)
			if m.FirstError == "" {
				m.FirstError = x.FirstError
			}
			m.Passes = append(m.Passes, Pass{Throughput: x.Throughput, P99ms: x.P99ms, Ratio: x.Ratio})
		}
		m.Throughput = median(col, func(x Result) float64 { return x.Throughput })
		m.P50ms = median(col, func(x Result) float64 { return x.P50ms })
		m.P99ms = median(col, func(x Result) float64 { return x.P99ms })
		m.Ratio = median(col, func(x Result) float64 { return x.Ratio })
		m.HeapPerTenant = median(col, func(x Result) float64 { return x.HeapPerTenant })
		out[i] = m
	}
	return out
}

func median(rs []Result, f func(Result) float64) float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	slices.Sort(v)
	if n := len(v); n%2 == 0 {
		return (v[n/2-1] + v[n/2]) / 2
	}
	return v[len(v)/2]
}

// withDelayedLogins adds a delay fault on login and keeps c.workers logins
// waiting on it while measure runs: a delay must not hold up other routes.
func withDelayedLogins(ctx context.Context, c config, control requester, measure func() (Result, error)) (Result, error) {
	delay := c.loginDelay
	if delay <= 0 {
		delay = c.duration + 10*time.Second
	}
	rule := fmt.Sprintf(`{"route":"login","delay":%q}`, delay.String())
	if _, err := call(ctx, control, "POST", "/_mock/faults", rule, ""); err != nil {
		return Result{}, fmt.Errorf("adding the login delay: %w", err)
	}
	defer func() { _, _ = call(context.Background(), control, "DELETE", "/_mock/faults", "", "") }()
	lctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	logins := newClient(c.workers) // their own connections
	var sent sync.WaitGroup        // each worker's first login is written
	sent.Add(c.workers)
	for range c.workers {
		wg.Go(func() {
			rq := &httpClient{client: logins, base: c.url}
			var once sync.Once
			wrote := func() { once.Do(sent.Done) }
			defer wrote() // also when the first login fails before it is written
			first := httptrace.WithClientTrace(lctx, &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { wrote() }})
			for ctx := first; lctx.Err() == nil; ctx = lctx {
				_, _ = call(ctx, rq, "POST", mock.LoginPath, `{"username":"john@API","password":"honeyBunnies"}`, "")
				wrote()
			}
		})
	}
	sent.Wait() // refresh is measured with every delayed login in flight
	return measure()
}

// bcryptBound measures how many bcrypt checks at -bcrypt-cost this
// machine's cores run per second with nothing else: the ceiling of login.
func bcryptBound(ctx context.Context, c config) Result {
	hash, _ := bcrypt.GenerateFromPassword([]byte(mock.ExamplePassword), c.bcryptCost)
	res, _ := drive(ctx, c, fmt.Sprintf("bcrypt-%d bound", c.bcryptCost), "", func(context.Context, requester) (step, error) {
		return func(context.Context, requester) error {
			return bcrypt.CompareHashAndPassword(hash, []byte(mock.ExamplePassword))
		}, nil
	})
	return res
}

func newClient(workers int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = workers * 2
	tr.MaxIdleConnsPerHost = workers * 2
	tr.MaxConnsPerHost = 0
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

var floorBody = []byte(`{"ok":true,"result":{}}` + "\n")

// floorHandler is the floor: fixed JSON from a bare net/http handler.
func floorHandler(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(floorBody)
}

// loadFloor measures the floor, served in this process or, to match a
// dyormock running as its own process, by a child process (this program
// again, with -serve-floor): the two then pay the same cost of two
// processes sharing the machine.
func loadFloor(ctx context.Context, c config) (Result, error) {
	var base string
	if c.floorProcess {
		url, stop, err := startFloorProcess(ctx)
		if err != nil {
			return Result{}, fmt.Errorf("starting the floor process: %w", err)
		}
		defer stop()
		base = url
	} else {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return Result{}, err
		}
		srv := &http.Server{Handler: http.HandlerFunc(floorHandler)}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Close()
		base = "http://" + ln.Addr().String()
	}
	return drive(ctx, c, "floor", base, func(context.Context, requester) (step, error) {
		return func(ctx context.Context, rq requester) error {
			_, err := call(ctx, rq, "GET", mock.RefreshPath, "", "Bearer x")
			return err
		}, nil
	})
}

// startFloorProcess runs this program with -serve-floor and returns the URL
// it prints; stop ends it.
func startFloorProcess(ctx context.Context) (url string, stop func(), err error) {
	exe, err := os.Executable()
	if err != nil {
		return "", nil, err
	}
	cmd := exec.CommandContext(ctx, exe, "-serve-floor")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe() // closed by stop: the child exits
	if err != nil {
		return "", nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop = func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		stop()
		return "", nil, fmt.Errorf("reading its URL: %w", err)
	}
	return strings.TrimSpace(line), stop, nil
}

// serveFloor is the child of startFloorProcess: it serves the floor on
// loopback, prints its URL, and exits when its stdin closes.
func serveFloor() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Printf("http://%s\n", ln.Addr())
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		_ = ln.Close()
	}()
	if err := http.Serve(ln, http.HandlerFunc(floorHandler)); !errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil
}

// load drives one route; each worker prepares its own state first, on its
// own connection.
func load(ctx context.Context, c config, route string) (Result, error) {
	switch route {
	case "refresh":
		return drive(ctx, c, route, c.url, func(ctx context.Context, rq requester) (step, error) {
			refresh, err := mint(ctx, rq, "refresh")
			if err != nil {
				return nil, err
			}
			return func(ctx context.Context, rq requester) error {
				body, err := call(ctx, rq, "GET", mock.RefreshPath, "", "Bearer "+refresh)
				if err != nil {
					return err
				}
				refresh, err = tokenField(body, "refresh")
				return err
			}, nil
		})
	case "logout":
		per := c.maxSessions / c.workers
		return drive(ctx, c, route, c.url, func(ctx context.Context, rq requester) (step, error) {
			tokens := make([]string, 0, per)
			for range per {
				access, err := mint(ctx, rq, "access")
				if err != nil {
					return nil, err
				}
				tokens = append(tokens, access)
			}
			return func(ctx context.Context, rq requester) error {
				if len(tokens) == 0 {
					return errExhausted
				}
				tok := tokens[len(tokens)-1]
				tokens = tokens[:len(tokens)-1]
				_, err := call(ctx, rq, "DELETE", mock.LogoutPath, "", "Bearer "+tok)
				return err
			}, nil
		})
	case "login":
		return drive(ctx, c, route, c.url, func(context.Context, requester) (step, error) {
			return func(ctx context.Context, rq requester) error {
				_, err := call(ctx, rq, "POST", mock.LoginPath, `{"username":"john@API","password":"honeyBunnies"}`, "")
				return err
			}, nil
		})
	case "login-repeat":
		return loadLoginRepeat(ctx, c, c.defaultURL)
	case "register":
		var n atomic.Int64
		prefix := fmt.Sprintf("load-%d-", time.Now().UnixNano()%1e9)
		return drive(ctx, c, route, c.url, func(context.Context, requester) (step, error) {
			return func(ctx context.Context, rq requester) error {
				body := fmt.Sprintf(`{"username":"%s%d","password":"password1"}`, prefix, n.Add(1))
				_, err := call(ctx, rq, "POST", mock.RegisterPath, body, "")
				return err
			}, nil
		})
	}
	return Result{}, fmt.Errorf("unknown -route %q: want register, login, refresh, logout, mix, delay-check, login-repeat, startup or tenants", route)
}

var errExhausted = errors.New("no minted session left")

// A step is one measured request of a worker.
type step func(ctx context.Context, rq requester) error

// drive runs c.workers workers against base, each with its own requester
// (one connection), preparing with setup and then calling its step until
// the duration ends, and summarises the latencies.
func drive(ctx context.Context, c config, target, base string, setup func(context.Context, requester) (step, error)) (Result, error) {
	steps := make([]step, c.workers)
	rqs := make([]requester, c.workers)
	defer func() {
		for _, rq := range rqs {
			if rq != nil {
				rq.close()
			}
		}
	}()
	var wg sync.WaitGroup
	errs := make([]error, c.workers)
	for w := range c.workers {
		wg.Go(func() {
			if base != "" { // "" for work that sends no requests
				rqs[w], errs[w] = newRequester(c.client, base)
			}
			if errs[w] == nil {
				steps[w], errs[w] = setup(ctx, rqs[w])
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil { // one is enough: the workers fail alike
			return Result{}, fmt.Errorf("%s: preparing workers: %w", target, err)
		}
	}
	lat := make([][]time.Duration, c.workers)
	fails := make([]int, c.workers)
	var firstErr atomic.Value
	// A run ends after c.requests steps of each worker, or else when the
	// duration is up.
	runCtx, cancel := context.WithCancel(ctx)
	if c.requests == 0 {
		runCtx, cancel = context.WithTimeout(ctx, c.duration)
	}
	defer cancel()
	more := func(done int) bool { return runCtx.Err() == nil && (c.requests == 0 || done < c.requests) }
	start := time.Now()
	var ended atomic.Int64
	for w := range c.workers {
		wg.Go(func() {
			lat[w] = make([]time.Duration, 0, max(c.requests, 1<<14))
			for done := 0; more(done); done++ {
				t0 := time.Now()
				err := steps[w](runCtx, rqs[w])
				if errors.Is(err, errExhausted) {
					break
				}
				if runCtx.Err() != nil {
					break // cut off by the end of the run: not counted
				}
				lat[w] = append(lat[w], time.Since(t0))
				if err != nil {
					fails[w]++
					firstErr.CompareAndSwap(nil, err.Error())
				}
			}
			ended.Store(int64(time.Since(start)))
		})
	}
	wg.Wait()
	elapsed := time.Duration(ended.Load())
	all := slices.Concat(lat...)
	slices.Sort(all)
	res := Result{Target: target, Requests: len(all), Seconds: elapsed.Seconds()}
	for _, f := range fails {
		res.Failures += f
	}
	if v, ok := firstErr.Load().(string); ok {
		res.FirstError = v
	}
	if len(all) > 0 {
		res.Throughput = float64(len(all)) / elapsed.Seconds()
		res.P50ms = ms(all[len(all)/2])
		res.P99ms = ms(all[len(all)*99/100])
		res.Maxms = ms(all[len(all)-1])
	}
	return res, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// mint asks the control plane for a new session of john@API and returns
// its "access" or "refresh" token.
func mint(ctx context.Context, rq requester, which string) (string, error) {
	body, err := call(ctx, rq, "POST", "/_mock/sessions", `{"username":"john@API"}`, "")
	if err != nil {
		return "", err
	}
	return tokenField(body, which)
}

// call sends one request and fails on anything but a 200.
func call(ctx context.Context, rq requester, method, path, body, auth string) ([]byte, error) {
	status, resp, err := rq.do(ctx, method, path, body, auth)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("%s %s: %d %s", method, path, status, bytes.TrimSpace(resp))
	}
	return resp, nil
}

// tokenField returns the token named which ("access" or "refresh") from a
// token answer, {"ok":true,"result":{"token":{"access":…,"refresh":…}}}.
// Tokens are base64url and dots, so the value has no escapes: a scan finds
// it without decoding the whole answer with reflection on every request.
func tokenField(body []byte, which string) (string, error) {
	key := `"` + which + `":"`
	i := bytes.Index(body, []byte(key))
	if i < 0 {
		return "", fmt.Errorf("no %s token in the answer", which)
	}
	v := body[i+len(key):]
	end := bytes.IndexByte(v, '"')
	if end <= 0 || bytes.IndexByte(v[:end], '\\') >= 0 {
		return "", fmt.Errorf("no %s token in the answer", which)
	}
	return string(v[:end]), nil
}

// serveInProcess starts dyormock's server in this process on a loopback
// port.
func serveInProcess(opts ...mock.Option) (url string, stop func(), err error) {
	srv, err := mock.New(opts...)
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		srv.Close()
		return "", nil, err
	}
	srv.Serve(ln)
	return srv.URL, srv.Close, nil
}
