package credstore_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dyor-exchange/dyorctl/client"
	"github.com/dyor-exchange/dyorctl/credstore"
	"github.com/dyor-exchange/dyorctl/mock"
)

// These tests kill processes that are using the credentials file with
// SIGKILL at random moments: the file must always be a complete one, and
// no temporary files may pile up. The processes are this test binary run
// again (os.Args[0]) with -test.run=^TestCrashHelper$ and CRASH_HELPER set
// to their role; they report on file descriptor 3, one line per step.

const (
	crashServer = "https://crash.example"
	otherServer = "https://other.example"
)

// TestCrashHelper is the body of the processes that the crash tests start
// and kill; run directly it does nothing.
func TestCrashHelper(t *testing.T) {
	role := os.Getenv("CRASH_HELPER")
	if role == "" {
		t.Skip("helper process for the crash tests")
	}
	report := os.NewFile(3, "report")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // an orphan does not live on
	defer cancel()
	var err error
	switch role {
	case "writer":
		err = crashWriter(ctx, report, false)
	case "writer-once":
		err = crashWriter(ctx, report, true)
	case "victim", "survivor":
		err = crashRefresher(ctx, report, role == "survivor")
	default:
		err = fmt.Errorf("unknown role %q", role)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// generationTokens is a complete pair for john@API on crashServer whose
// session id names its generation. Its claims are padded to make the file
// some kilobytes long, so that a write that is not atomic would be seen
// cut short.
func generationTokens(gen int) (client.Tokens, error) {
	pad := strings.Repeat("p", 4<<10)
	jwt := func(typ string, exp time.Time) string {
		payload, _ := json.Marshal(map[string]any{"sub": "id-john", "sid": fmt.Sprintf("gen-%d", gen), "typ": typ,
			"iat": 1_700_000_000, "exp": exp.Unix(), "pad": pad})
		return "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." + base64.RawURLEncoding.EncodeToString(payload) + ".c2ln"
	}
	far := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	tok, err := client.ParseTokens(jwt("access", far), jwt("refresh", far.Add(time.Hour)))
	tok.Username = "john@API"
	return tok, err
}

// crashWriter saves generation after generation (from $CRASH_GEN on) as
// john@API's tokens and reports each one once Save has returned; once
// means one Save, then exit.
func crashWriter(ctx context.Context, report io.Writer, once bool) error {
	s, err := credstore.Open(os.Getenv("CRASH_DIR"))
	if err != nil {
		return err
	}
	gen, err := strconv.Atoi(os.Getenv("CRASH_GEN"))
	if err != nil {
		return err
	}
	ss := s.ForServer(crashServer)
	for ; ctx.Err() == nil; gen++ {
		tok, err := generationTokens(gen)
		if err != nil {
			return err
		}
		if err := ss.Save(ctx, tok); err != nil {
			return fmt.Errorf("Save of generation %d: %w", gen, err)
		}
		if _, err := fmt.Fprintln(report, gen); err != nil {
			return err
		}
		if once {
			return nil
		}
	}
	return ctx.Err()
}

// crashRefresher refreshes john@API's session through the file. The
// survivor does one step per line "r" on stdin and reports its outcome;
// on "final" it asks for an access token once more and exits. A victim
// refreshes without pause until it is killed.
func crashRefresher(ctx context.Context, report io.Writer, survivor bool) error {
	url := os.Getenv("CRASH_URL")
	c, err := alwaysRefreshing(os.Getenv("CRASH_DIR"), url)
	if err != nil {
		return err
	}
	step := func(i int) string {
		var err error
		if i%2 == 0 {
			_, err = c.AccessToken(ctx)
		} else {
			_, err = c.Refresh(ctx)
		}
		switch {
		case err == nil:
			tok, err := c.Tokens(ctx)
			if err != nil {
				return "err after the refresh: " + oneLine(err)
			}
			return "ok " + tok.SessionID
		case errors.Is(err, client.ErrSessionInvalid):
			return "invalid"
		case errors.Is(err, client.ErrNotLoggedIn):
			return "notloggedin"
		}
		return "err " + oneLine(err)
	}
	if !survivor {
		for i := 0; ctx.Err() == nil; i++ {
			if _, err := fmt.Fprintln(report, step(i)); err != nil {
				return err
			}
		}
		return ctx.Err()
	}
	in := bufio.NewScanner(os.Stdin)
	for i := 0; in.Scan(); i++ {
		out := step(i)
		if in.Text() == "final" {
			out = "final " + step(0) // AccessToken
		}
		if _, err := fmt.Fprintln(report, out); err != nil {
			return err
		}
	}
	return in.Err()
}

func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", " ") }

// helper is a running helper process.
type helper struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	reports chan string // its lines on fd 3; closed when it is gone
	stderr  strings.Builder
}

func startHelper(t *testing.T, role string, env ...string) *helper {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	h := &helper{reports: make(chan string, 1<<16)}
	h.cmd = exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestCrashHelper$", "-test.count=1")
	h.cmd.Env = append(os.Environ(), append([]string{
		"CRASH_HELPER=" + role,
		// A race-enabled binary waits 1 s at exit by default.
		"GORACE=" + strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"),
	}, env...)...)
	h.cmd.ExtraFiles = []*os.File{w}
	h.cmd.Stderr = &h.stderr
	if role == "survivor" {
		if h.stdin, err = h.cmd.StdinPipe(); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	go func() {
		defer close(h.reports)
		defer r.Close()
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			h.reports <- sc.Text()
		}
	}()
	return h
}

// next waits for the helper's next report; "" when it has gone.
func (h *helper) next(t *testing.T) string {
	t.Helper()
	select {
	case line := <-h.reports:
		return line
	case <-time.After(30 * time.Second):
		t.Fatalf("no report from %v in 30 s; stderr:\n%s", h.cmd.Args, &h.stderr)
	}
	return ""
}

// kill kills the helper with SIGKILL and returns what it reported and
// had not been read yet.
func (h *helper) kill(t *testing.T) []string {
	t.Helper()
	if err := h.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	err := h.cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != -1 {
		// Exited on its own before the kill: a failure in the helper.
		t.Fatalf("helper ended with %v before it was killed; stderr:\n%s", err, &h.stderr)
	}
	var rest []string
	for line := range h.reports {
		rest = append(rest, line)
	}
	return rest
}

func (h *helper) wait(t *testing.T) {
	t.Helper()
	if err := h.cmd.Wait(); err != nil {
		t.Fatalf("helper: %v; stderr:\n%s", err, &h.stderr)
	}
}

// tempFiles lists what the store left in dir besides its two files.
func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.Name() != credstore.FileName && e.Name() != "credentials.lock" {
			out = append(out, e.Name())
		}
	}
	return out
}

func newRand(t *testing.T) *rand.Rand {
	seed := uint64(time.Now().UnixNano())
	t.Logf("random seed %d", seed)
	return rand.New(rand.NewPCG(seed, seed))
}

// TestKilledWriterLeavesACompleteFile kills a process that saves new
// tokens in a loop, at random moments, over and over: after every kill the
// file is the last generation the process reported saved or the one it was
// writing, complete, with the other accounts intact; at most the killed
// write's temporary file is left, and the next write clears it.
func TestKilledWriterLeavesACompleteFile(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills processes")
	}
	const kills = 120
	rng := newRand(t)
	dir := filepath.Join(t.TempDir(), "cfg")
	s := open(t, dir)
	bob, jane := tokens(t, "bob", "bob-1"), tokens(t, "jane", "jane-1")
	first, err := generationTokens(0)
	if err != nil {
		t.Fatal(err)
	}
	for _, save := range []struct {
		server string
		tok    client.Tokens
	}{{crashServer, bob}, {otherServer, jane}, {crashServer, first}} {
		if err := s.ForServer(save.server).Save(t.Context(), save.tok); err != nil {
			t.Fatal(err)
		}
	}

	// check fails unless the file holds generation from or from+1 and the
	// other accounts, and returns which.
	check := func(from int) int {
		t.Helper()
		data, err := os.ReadFile(s.Path())
		if err != nil || !json.Valid(data) {
			t.Fatalf("after a kill the file is missing or not JSON: %v (%d bytes)", err, len(data))
		}
		accts, err := s.Accounts()
		if err != nil {
			t.Fatalf("after a kill: %v", err)
		}
		if len(accts) != 3 || accts[0].Tokens != bob || accts[0].Active || accts[2].Tokens != jane || !accts[2].Active ||
			accts[1].Username != "john@API" || !accts[1].Active {
			t.Fatalf("after a kill the accounts are %+v", accts)
		}
		gen, err := strconv.Atoi(strings.TrimPrefix(accts[1].Tokens.SessionID, "gen-"))
		if err != nil || (gen != from && gen != from+1) {
			t.Fatalf("after a kill the file holds %q, want generation %d or %d", accts[1].Tokens.SessionID, from, from+1)
		}
		return gen
	}

	var (
		last                            = 0 // the generation in the file
		sawPrevious, sawInFlight        int // the file held the last reported generation / the one being written
		killedEarly, killedAfterReports int
		killedInWrite                   int
		leftTemp, maxTemp               int
	)
	start := time.Now()
	for i := range kills {
		h := startHelper(t, "writer", "CRASH_DIR="+dir, "CRASH_GEN="+strconv.Itoa(last+1))
		var reported []string
		waitReports := func(n int) {
			for range n {
				line := h.next(t)
				if line == "" {
					t.Fatalf("writer gone; stderr:\n%s", &h.stderr)
				}
				reported = append(reported, line)
			}
		}
		switch i % 3 {
		case 0:
			// Anywhere from during start-up to some writes in.
			time.Sleep(time.Duration(rng.IntN(20_000)) * time.Microsecond)
			killedEarly++
		case 1:
			// A Save takes some milliseconds (reading, two fsyncs): land
			// anywhere in the next one or two.
			waitReports(1 + rng.IntN(4))
			time.Sleep(time.Duration(rng.IntN(20_000)) * time.Microsecond)
			killedAfterReports++
		case 2:
			// While the temporary file exists: between its creation and
			// the rename (writing, fsync). After a reported save, a
			// temporary file can only be this writer's. (If a whole save
			// goes by unseen, kill anyway.)
			waitReports(1 + rng.IntN(3))
			deadline := time.Now().Add(10 * time.Second)
			for len(tempFiles(t, dir)) == 0 && len(h.reports) == 0 {
				if time.Now().After(deadline) {
					t.Fatalf("the writer saved nothing in 10 s; stderr:\n%s", &h.stderr)
				}
				time.Sleep(50 * time.Microsecond) // polling
			}
			time.Sleep(time.Duration(rng.IntN(3_000)) * time.Microsecond)
			killedInWrite++
		}
		reported = append(reported, h.kill(t)...)
		saved := last
		for _, line := range reported {
			gen, err := strconv.Atoi(line)
			if err != nil || gen != saved+1 {
				t.Fatalf("writer reported %q after generation %d", line, saved)
			}
			saved = gen
		}
		last = check(saved)
		if last == saved {
			sawPrevious++
		} else {
			sawInFlight++
		}
		temps := tempFiles(t, dir)
		for _, name := range temps {
			if !strings.HasPrefix(name, ".credentials-") || !strings.HasSuffix(name, ".tmp") {
				t.Fatalf("unexpected file %s in the store's directory", name)
			}
		}
		if len(temps) > 0 {
			leftTemp++
		}
		maxTemp = max(maxTemp, len(temps))
		if len(temps) > 1 {
			t.Fatalf("after kill %d: %d temporary files pile up: %v", i+1, len(temps), temps)
		}
	}

	// The next write by a fresh process leaves only the two files.
	h := startHelper(t, "writer-once", "CRASH_DIR="+dir, "CRASH_GEN="+strconv.Itoa(last+1))
	if line := h.next(t); line != strconv.Itoa(last+1) {
		t.Fatalf("writer-once reported %q; stderr:\n%s", line, &h.stderr)
	}
	h.wait(t)
	if got := check(last + 1); got != last+1 {
		t.Fatalf("the file holds generation %d after a completed write of %d", got, last+1)
	}
	checkOnlyFiles(t, dir, credstore.FileName, "credentials.lock")
	t.Logf("%d kills (%d at 0-20 ms from start, %d at 0-20 ms after 1-4 reported saves, %d at 0-3 ms after a temporary file appeared) in %v: "+
		"the file held the last reported generation %d times and the one being written %d times; "+
		"%d kills left a temporary file (at most %d at a time), cleared by the next write; %d generations written",
		kills, killedEarly, killedAfterReports, killedInWrite, time.Since(start).Round(time.Millisecond),
		sawPrevious, sawInFlight, leftTemp, maxTemp, last+1)
}

// TestKilledRefresherDoesNotBreakTheSurvivor: two processes refresh one
// session through one file; one of them is killed with SIGKILL mid-loop,
// again and again. The file is always complete, the survivor only ever
// succeeds or gets a clean ErrSessionInvalid / ErrNotLoggedIn, the server
// sees a reused refresh token only when a killed process had its refresh
// rotated on the server but died before saving the answer (at most once
// per kill: the one loss no client can prevent), and at the end the
// survivor's next AccessToken works on a live session.
func TestKilledRefresherDoesNotBreakTheSurvivor(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills processes")
	}
	const kills = 12
	rng := newRand(t)
	srv := mock.Start(t, mock.WithBcryptCost(4))
	dir := filepath.Join(t.TempDir(), "cfg")
	loginToFile(t, srv, dir)
	s := open(t, dir)
	env := []string{"CRASH_DIR=" + dir, "CRASH_URL=" + srv.URL}

	reuses := func() int {
		n := 0
		for _, r := range srv.Requests() {
			if r.Path == mock.RefreshPath && r.Code == 401004 {
				n++
			}
		}
		return n
	}
	surv := startHelper(t, "survivor", env...)
	outcomes := map[string]int{} // of the survivor's steps
	step := func() string {
		if _, err := io.WriteString(surv.stdin, "r\n"); err != nil {
			t.Errorf("survivor: %v", err)
			return ""
		}
		select {
		case line := <-surv.reports:
			return line
		case <-time.After(30 * time.Second):
			t.Errorf("no answer from the survivor in 30 s; stderr:\n%s", &surv.stderr)
			return ""
		}
	}
	record := func(who, line string) {
		t.Helper()
		kind, _, _ := strings.Cut(line, " ")
		switch kind {
		case "ok", "invalid", "notloggedin":
		default:
			t.Fatalf("%s: %q; survivor stderr:\n%s", who, line, &surv.stderr)
		}
		if who == "survivor" {
			outcomes[kind]++
		}
	}

	var lost, relogins, victimSteps int
	for i := range kills {
		if _, err := s.Active(srv.URL); errors.Is(err, credstore.ErrNoActive) {
			loginToFile(t, srv, dir) // the session was lost last round
			relogins++
		} else if err != nil {
			t.Fatal(err)
		}
		before := reuses()
		victim := startHelper(t, "victim", env...)
		record("victim", victim.next(t))

		// The survivor refreshes too while the victim goes on.
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var during []string
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				line := step()
				if line == "" {
					return
				}
				during = append(during, line)
			}
		})
		n := rng.IntN(4)
		for range n {
			record("victim", victim.next(t))
		}
		time.Sleep(time.Duration(rng.IntN(3_000)) * time.Microsecond)
		rest := victim.kill(t)
		close(stop)
		wg.Wait()
		for _, line := range rest {
			record("victim", line)
		}
		victimSteps += 1 + n + len(rest)
		for _, line := range during {
			record("survivor", line)
		}

		// After every kill, a complete file.
		if _, err := s.Accounts(); err != nil {
			t.Fatalf("after kill %d: %v", i+1, err)
		}
		// Two more steps of the survivor: the second one surely started
		// after the victim died.
		record("survivor", step())
		last := step()
		record("survivor", last)
		delta := reuses() - before
		switch {
		case delta > 1:
			t.Fatalf("kill %d: %d refreshes were answered 401004 (reuse), at most the killed one's may be", i+1, delta)
		case delta == 1:
			lost++
			if strings.HasPrefix(last, "ok") {
				t.Fatalf("kill %d: reuse detected, yet the survivor still refreshes: %q", i+1, last)
			}
		case !strings.HasPrefix(last, "ok"):
			t.Fatalf("kill %d: no reuse, yet the survivor got %q", i+1, last)
		}
	}

	// The survivor's next AccessToken works, on the one live session.
	if _, err := s.Active(srv.URL); errors.Is(err, credstore.ErrNoActive) {
		loginToFile(t, srv, dir)
		relogins++
	}
	before := reuses()
	if _, err := io.WriteString(surv.stdin, "final\n"); err != nil {
		t.Fatal(err)
	}
	final := surv.next(t)
	if err := surv.stdin.Close(); err != nil {
		t.Fatal(err)
	}
	surv.wait(t)
	sid, ok := strings.CutPrefix(final, "final ok ")
	if !ok {
		t.Fatalf("the survivor's AccessToken after the kills: %q", final)
	}
	if reuses() != before {
		t.Fatal("the final refresh was taken for reuse")
	}
	acct, err := s.Active(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if sessions := srv.Sessions(); len(sessions) != 1 || sessions[0].ID != sid || acct.Tokens.SessionID != sid {
		t.Fatalf("live sessions %+v, the survivor has %q, the file %q", sessions, sid, acct.Tokens.SessionID)
	}
	requests := srv.Requests()
	if len(requests) >= 1000 {
		t.Fatalf("the journal holds %d requests and may have dropped some: lower kills", len(requests))
	}
	for _, r := range requests {
		if r.Path == mock.RefreshPath && r.Status != 200 && r.Code != 401004 {
			t.Errorf("a refresh got %d (code %d)", r.Status, r.Code)
		}
	}
	if got := reuses(); got != lost {
		t.Errorf("%d refreshes answered 401004, %d sessions counted lost", got, lost)
	}
	checkOnlyFiles(t, dir, credstore.FileName, "credentials.lock")
	t.Logf("%d kills of a refreshing process (%d victim steps), %d refresh requests: the session was lost %d times "+
		"(the killed process's refresh rotated on the server, its answer never saved; 401004 on the next refresh, %d logins again), "+
		"survived %d times; survivor steps: %v; its final AccessToken works",
		kills, victimSteps, len(requestsTo(requests, mock.RefreshPath)), lost, relogins, kills-lost, outcomes)
}

func requestsTo(rs []mock.Request, path string) []mock.Request {
	var out []mock.Request
	for _, r := range rs {
		if r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// TestWriteClearsStaleTempFiles: a write removes the temporary files that
// a killed writer left (its own naming pattern only, under the lock), and
// nothing else.
func TestWriteClearsStaleTempFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := open(t, dir)
	if err := s.ForServer(serverA).Save(t.Context(), tokens(t, "u", "s1")); err != nil {
		t.Fatal(err)
	}
	stale := []string{".credentials-123.tmp", ".credentials-4567890.tmp"}
	keep := []string{"notes.txt", ".credentials-123.tmp.bak", "credentials-1.tmp", "42.tmp", ".credentials-42", ".credentials-.tmp", ".credentials-x1.tmp",
		".credentials-99.tmp"} // the last one a directory: not a file of the store's
	for _, name := range append(stale, keep[:len(keep)-1]...) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(`{"version":1,"servers":{}}`), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, keep[len(keep)-1]), 0o700); err != nil {
		t.Fatal(err)
	}
	// Reading does not clean up (it takes no lock)...
	if _, err := s.Accounts(); err != nil {
		t.Fatal(err)
	}
	if got := len(tempFiles(t, dir)); got != len(stale)+len(keep) {
		t.Fatalf("a read changed the directory: %v", tempFiles(t, dir))
	}
	// ...a write does.
	if err := s.ForServer(serverA).Save(t.Context(), tokens(t, "u", "s2")); err != nil {
		t.Fatal(err)
	}
	checkOnlyFiles(t, dir, append([]string{credstore.FileName, "credentials.lock"}, keep...)...)
	for _, name := range keep {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if a, err := s.Active(serverA); err != nil || a.Tokens.SessionID != "s2" {
		t.Errorf("Active = %+v, %v", a, err)
	}
}
