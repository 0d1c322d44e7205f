package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// The test binary stands in for dyorload when a test starts the floor in
// its own process (startFloorProcess runs os.Executable with -serve-floor).
func TestMain(m *testing.M) {
	if len(os.Args) == 2 && os.Args[1] == "-serve-floor" {
		if err := serveFloor(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// echo answers with what it received, and the connection it came on.
func echo(conns *sync.Map) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		conns.Store(r.RemoteAddr, true)
		body, _ := io.ReadAll(r.Body)
		if r.URL.Query().Has("close") {
			w.Header().Set("Connection", "close")
		}
		answer := fmt.Sprintf("%s %s|%s|%s|%s", r.Method, r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("Content-Type"), body)
		w.Header().Set("Content-Length", fmt.Sprint(len(answer)))
		w.WriteHeader(http.StatusTeapot)
		_, _ = io.WriteString(w, answer)
	}
}

func TestWireClientKeepsOneConnection(t *testing.T) {
	t.Parallel()
	var conns sync.Map
	srv := httptest.NewServer(echo(&conns))
	t.Cleanup(srv.Close)
	rq, err := newRequester("wire", srv.URL+"/base/")
	if err != nil {
		t.Fatal(err)
	}
	defer rq.close()
	ctx := context.Background()
	for i := range 5 {
		body := strings.Repeat("x", i*1000)
		status, got, err := rq.do(ctx, "POST", "/p", body, "Bearer t")
		if err != nil {
			t.Fatal(err)
		}
		want := "POST /base/p|Bearer t|application/json|" + body
		if status != http.StatusTeapot || string(got) != want {
			t.Fatalf("request %d: %d %.80q, want 418 %.80q", i, status, got, want)
		}
	}
	n := 0
	conns.Range(func(any, any) bool { n++; return true })
	if n != 1 {
		t.Fatalf("5 requests used %d connections, want 1 (keep-alive)", n)
	}
}

func TestWireClientRedialsAfterConnectionClose(t *testing.T) {
	t.Parallel()
	var conns sync.Map
	srv := httptest.NewServer(echo(&conns))
	t.Cleanup(srv.Close)
	rq, _ := newRequester("wire", srv.URL)
	defer rq.close()
	for _, path := range []string{"/a?close", "/b", "/c"} {
		if _, got, err := rq.do(context.Background(), "GET", path, "", ""); err != nil || !strings.HasPrefix(string(got), "GET /") {
			t.Fatalf("%s: %q, %v", path, got, err)
		}
	}
	n := 0
	conns.Range(func(any, any) bool { n++; return true })
	if n != 2 {
		t.Fatalf("used %d connections, want 2 (one closed by the server)", n)
	}
}

func TestWireClientRefusesOtherFraming(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("part"))
		w.(http.Flusher).Flush() // chunked
		_, _ = w.Write([]byte("rest"))
	}))
	t.Cleanup(srv.Close)
	rq, _ := newRequester("wire", srv.URL)
	defer rq.close()
	if _, _, err := rq.do(context.Background(), "GET", "/", "", ""); !errors.Is(err, errFraming) {
		t.Fatalf("chunked answer: err = %v, want errFraming", err)
	}
}

func TestWireClientIsCutByItsContext(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
	t.Cleanup(func() { close(release); srv.Close() })
	rq, _ := newRequester("wire", srv.URL)
	defer rq.close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, _, err := rq.do(ctx, "GET", "/", "", "")
		done <- err
	}()
	cancel()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a request cut by its context succeeded")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a cancelled request did not return")
	}
}

func TestNewRequesterRefusesWhatItCannotSpeak(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ kind, url string }{{"wire", "https://example.com"}, {"wire", "::"}, {"carrier-pigeon", "http://x"}} {
		if _, err := newRequester(c.kind, c.url); err == nil {
			t.Errorf("newRequester(%q, %q) = nil error", c.kind, c.url)
		}
	}
}

func TestTokenField(t *testing.T) {
	t.Parallel()
	answer := []byte(`{"ok":true,"result":{"token":{"access":"a.b.c","refresh":"d.e.f"}}}`)
	if got, err := tokenField(answer, "refresh"); err != nil || got != "d.e.f" {
		t.Fatalf("refresh = %q, %v", got, err)
	}
	if got, err := tokenField(answer, "access"); err != nil || got != "a.b.c" {
		t.Fatalf("access = %q, %v", got, err)
	}
	for _, bad := range []string{`{"ok":true,"result":{}}`, `{"refresh":""}`, `{"refresh":"a\"b"}`, `{"refresh":"abc`} {
		if got, err := tokenField([]byte(bad), "refresh"); err == nil {
			t.Errorf("tokenField(%s) = %q, want an error", bad, got)
		}
	}
}

// A short run against the in-process server: every route answers, nothing
// fails, and the ratios are taken against the floor of the same run. Runs
// are bounded by a count, not a time window, so that a busy machine cannot
// leave a route with no request measured.
func TestRunInProcess(t *testing.T) {
	for _, client := range []string{"wire", "net/http"} {
		for _, route := range []string{"refresh", "logout", "mix"} {
			t.Run(client+"/"+route, func(t *testing.T) {
				rep, err := run(context.Background(), config{route: route, workers: 3, requests: 20,
					floor: true, bcryptCost: 4, maxSessions: 60, client: client, runs: 1})
				if err != nil {
					t.Fatal(err)
				}
				if rep.Results[0].Target != "floor" || rep.Results[0].Requests == 0 {
					t.Fatalf("no floor: %+v", rep.Results[0])
				}
				for _, res := range rep.Results[1:] {
					isBound := strings.HasSuffix(res.Target, " bound") // the baseline of login: no ratio of its own
					if res.Requests != 3*20 || res.Failures != 0 || (res.Ratio <= 0 && !isBound) || res.P99ms < res.P50ms {
						t.Errorf("%+v", res)
					}
				}
			})
		}
	}
}

func TestFloorInItsOwnProcess(t *testing.T) {
	res, err := loadFloor(context.Background(), config{workers: 2, requests: 20, floorProcess: true, client: "wire"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests == 0 || res.Failures != 0 {
		t.Fatalf("%+v", res)
	}
}

func TestDelayCheckMeasuresBoth(t *testing.T) {
	start := time.Now()
	c := config{route: "delay-check", workers: 2, requests: 20, bcryptCost: 4, client: "wire", runs: 1}
	rep, err := run(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 2 || rep.Results[1].Target != "refresh+delayed-logins" || rep.Results[1].RatioTo != "refresh" || rep.Results[1].Ratio <= 0 {
		t.Fatalf("%+v", rep.Results)
	}
	for _, res := range rep.Results {
		if res.Requests == 0 || res.Failures != 0 {
			t.Errorf("%+v", res)
		}
	}
	// The delayed logins are cut when the measurement ends, not left to
	// wait out their delay (the duration + 10s).
	if waited := time.Since(start); waited >= c.duration+10*time.Second {
		t.Fatalf("delay-check took %v: it waited for the delayed logins", waited)
	}
}

func TestMediansOfPasses(t *testing.T) {
	t.Parallel()
	pass := func(floorRPS, rps, p99 float64) []Result {
		return []Result{{Target: "floor", Requests: 10, Throughput: floorRPS, P99ms: 1, Maxms: p99},
			{Target: "refresh", Requests: 5, Failures: 1, Throughput: rps, P99ms: p99, Maxms: p99, Ratio: rps / floorRPS}}
	}
	got := medians([][]Result{pass(100, 50, 3), pass(200, 60, 9), pass(100, 80, 4)})
	r := got[1]
	if r.Throughput != 60 || r.P99ms != 4 || r.Maxms != 9 || r.Requests != 15 || r.Failures != 3 || len(r.Passes) != 3 {
		t.Fatalf("%+v", r)
	}
	if r.Ratio != 0.5 { // the median of 0.5, 0.3 and 0.8: each pass against its own floor
		t.Fatalf("ratio %v, want 0.5", r.Ratio)
	}
	if got := medians([][]Result{pass(100, 50, 3), pass(100, 70, 5)})[1]; got.Throughput != 60 || got.P99ms != 4 {
		t.Fatalf("even count: %+v", got)
	}
}

func TestSeveralPasses(t *testing.T) {
	rep, err := run(context.Background(), config{route: "refresh", workers: 2, requests: 10,
		floor: true, bcryptCost: 4, client: "wire", runs: 2})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Runs != 2 || len(rep.Results) != 2 || len(rep.Results[1].Passes) != 2 || rep.Results[1].Failures != 0 {
		t.Fatalf("%+v", rep)
	}
}
