package credstore_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/dyor-exchange/dyorctl/client"
	"github.com/dyor-exchange/dyorctl/credstore"
	"github.com/dyor-exchange/dyorctl/mock"
)

// These tests refresh one session through one credentials file from many
// independent users of it, each with its own Store and Client (so nothing
// in memory is shared but the process-wide lock table), and check with the
// mock that no refresh token was presented twice and that the file ends
// with the newest pair: the server answers 401004 to any reuse and revokes
// the session, and only the newest pair's session is live.

// refresher is one user of the file: it refreshes rounds times, half of
// them through AccessToken with a clock that makes every access token due
// for refresh, half through Refresh.
func refresher(ctx context.Context, baseURL, dir string, rounds int) error {
	c, err := alwaysRefreshing(dir, baseURL)
	if err != nil {
		return err
	}
	for i := range rounds {
		if i%2 == 0 {
			if _, err := c.AccessToken(ctx); err != nil {
				return fmt.Errorf("round %d: AccessToken: %w", i, err)
			}
		} else if _, err := c.Refresh(ctx); err != nil {
			return fmt.Errorf("round %d: Refresh: %w", i, err)
		}
	}
	return nil
}

// loginToFile logs john@API in through a Store in dir.
func loginToFile(t *testing.T, srv *mock.Server, dir string) {
	t.Helper()
	s := open(t, dir)
	c, err := client.New(srv.URL, client.WithTokenStore(s.ForServer(srv.URL)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Login(t.Context(), mock.ExampleUsername, mock.ExamplePassword); err != nil {
		t.Fatal(err)
	}
}

// checkOneLiveSession fails unless every refresh succeeded, at least
// minRefreshes reached the server, and the file holds the one live session.
func checkOneLiveSession(t *testing.T, srv *mock.Server, dir string, minRefreshes int) {
	t.Helper()
	n := 0
	for _, r := range srv.Requests() {
		if r.Path != mock.RefreshPath {
			continue
		}
		n++
		if r.Status != 200 {
			t.Errorf("a refresh got %d (code %d): a refresh token was presented twice", r.Status, r.Code)
		}
	}
	if n < minRefreshes {
		t.Errorf("%d refreshes reached the server, want at least %d", n, minRefreshes)
	}
	acct, err := open(t, dir).Active(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	sessions := srv.Sessions()
	if len(sessions) != 1 || sessions[0].ID != acct.Tokens.SessionID {
		t.Errorf("live sessions %+v, file holds %q: want the file's to be the only one", sessions, acct.Tokens.SessionID)
	}
	t.Logf("%d refreshes, all accepted; the file holds the live session", n)
}

func TestConcurrentStoresShareOneFile(t *testing.T) {
	t.Parallel()
	srv := mock.Start(t, mock.WithBcryptCost(4))
	dir := t.TempDir()
	loginToFile(t, srv, dir)

	const workers, rounds = 8, 10
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() { errs <- refresher(t.Context(), srv.URL, dir, rounds) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	// Every AccessToken round refreshes at least once overall; Refresh
	// rounds may find another worker's rotation and use it.
	checkOneLiveSession(t, srv, dir, rounds/2)
	checkOnlyFiles(t, dir, credstore.FileName, "credentials.lock")
}

// TestHelperProcess is the body of the processes that
// TestSeveralProcessesShareOneFile starts; run directly it does nothing.
func TestHelperProcess(t *testing.T) {
	if os.Getenv("CREDSTORE_HELPER") != "1" {
		t.Skip("helper process for TestSeveralProcessesShareOneFile")
	}
	rounds, _ := strconv.Atoi(os.Getenv("CREDSTORE_HELPER_ROUNDS"))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := refresher(ctx, os.Getenv("CREDSTORE_HELPER_URL"), os.Getenv("CREDSTORE_HELPER_DIR"), rounds); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func TestSeveralProcessesShareOneFile(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	srv := mock.Start(t, mock.WithBcryptCost(4))
	dir := filepath.Join(t.TempDir(), "cfg")
	loginToFile(t, srv, dir)

	const procs, rounds = 4, 12
	var wg sync.WaitGroup
	for i := range procs {
		wg.Go(func() {
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
			cmd.Env = append(os.Environ(),
				"CREDSTORE_HELPER=1",
				"CREDSTORE_HELPER_URL="+srv.URL,
				"CREDSTORE_HELPER_DIR="+dir,
				"CREDSTORE_HELPER_ROUNDS="+strconv.Itoa(rounds),
			)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("process %d: %v\n%s", i, err, out)
			}
		})
	}
	wg.Wait()
	checkOneLiveSession(t, srv, dir, rounds/2)
	checkOnlyFiles(t, dir, credstore.FileName, "credentials.lock")
}

// alwaysRefreshing is a client of baseURL on the store in dir whose clock
// runs 14m30s ahead: a 15-minute access token is then within the 60 s
// margin but not expired, so every AccessToken call refreshes.
func alwaysRefreshing(dir, baseURL string) (*client.Client, error) {
	s, err := credstore.Open(dir)
	if err != nil {
		return nil, err
	}
	ahead := func() time.Time { return time.Now().Add(14*time.Minute + 30*time.Second) }
	return client.New(baseURL, client.WithTokenStore(s.ForServer(baseURL)), client.WithClock(ahead))
}
