package dyorctlcmd

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gofrs/flock"

	"github.com/dyor-exchange/dyorctl/internal/testutil"
	"github.com/dyor-exchange/dyorctl/mock"
)

// liveSessions counts the mock's live sessions of username.
func liveSessions(srv *mock.Server, username string) []string {
	var ids []string
	for _, s := range srv.Sessions() {
		if s.Username == username {
			ids = append(ids, s.ID)
		}
	}
	return ids
}

// TestFullDiskLosesNoSession: with the config dir's disk full, refresh,
// login and logout stop before they send anything, say so, and leave the
// stored session working; once there is room, it refreshes (no reuse).
func TestFullDiskLosesNoSession(t *testing.T) {
	c := newCLI(t)
	c.dir = filepath.Join(testutil.MountTmpfs(t, 64<<10), "dyorctl")
	c.login(john, johnPW)
	before, _ := c.stored(john)
	filler := testutil.FillDisk(t, filepath.Dir(c.dir))
	sessions := liveSessions(c.srv, john)

	for _, args := range [][]string{{"refresh"}, {"logout"}, {"login", "-u", john, "--password-stdin"}} {
		r := c.run(johnPW+"\n", args...)
		wantExit(t, r, 1)
		for _, want := range []string{c.store().Path(), "no space left on device", "nothing was sent to the server"} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("%v: stderr %q lacks %q", args, r.stderr, want)
			}
		}
	}
	if n := countRequests(c.srv, "refresh", 200) + countRequests(c.srv, "logout", 200) + countRequests(c.srv, "login", 200); n != 1 {
		t.Errorf("%d successful requests reached the server, want only the first login", n)
	}
	if got := liveSessions(c.srv, john); len(got) != 1 || got[0] != sessions[0] {
		t.Errorf("live sessions %v, want only %v", got, sessions)
	}
	if after, _ := c.stored(john); after.Tokens.Refresh != before.Tokens.Refresh {
		t.Error("the stored pair changed")
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	wantExit(t, c.run("", "refresh"), 0)
	if hasCode(c.srv, 401004) {
		t.Error("the refresh after freeing the disk was taken as reuse")
	}
}

// TestReadOnlyConfigDir: in a read-only config dir, refresh sends nothing,
// so status is right to report the session valid, and it is: once the
// directory is writable the session refreshes.
func TestReadOnlyConfigDir(t *testing.T) {
	c := newCLI(t)
	mnt := testutil.MountTmpfs(t, 1<<20)
	c.dir = filepath.Join(mnt, "dyorctl")
	c.login(john, johnPW)
	if err := syscall.Mount("", mnt, "", syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
		t.Skipf("cannot remount read-only: %v", err)
	}
	r := c.run("", "refresh")
	wantExit(t, r, 1)
	if !strings.Contains(r.stderr, "read-only file system") || !strings.Contains(r.stderr, "nothing was sent") {
		t.Errorf("stderr %q: want the cause and that nothing was sent", r.stderr)
	}
	if n := countRequests(c.srv, "refresh", 200); n != 0 {
		t.Fatalf("%d refreshes reached the server from a read-only dir", n)
	}
	st := c.run("", "status", "-o", "json")
	wantExit(t, st, 0)
	if accounts := decodeJSON(t, st.stdout)["accounts"].([]any); len(accounts) != 1 || accounts[0].(map[string]any)["valid"] != true {
		t.Fatalf("status: %s", st.stdout)
	}
	if err := syscall.Mount("", mnt, "", syscall.MS_REMOUNT, ""); err != nil {
		t.Fatal(err)
	}
	wantExit(t, c.run("", "refresh"), 0) // valid indeed: no reuse, no exit 4
}

// TestFileSizeLimit: under "ulimit -f 0" (a child process: the limit binds
// the process it is set in) refresh fails before it sends anything.
func TestFileSizeLimit(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.login(john, johnPW)
	bin := dyorctlBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", `ulimit -f 0 && exec "$0" "$@"`, bin, "--server", c.srv.URL, "--config-dir", c.dir, "refresh")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("refresh under ulimit -f 0: %v, output %q; want exit 1", err, out)
	}
	if !strings.Contains(string(out), "file too large") || !strings.Contains(string(out), "nothing was sent") {
		t.Errorf("output %q: want the cause and that nothing was sent", out)
	}
	if n := countRequests(c.srv, "refresh", 200); n != 0 {
		t.Errorf("%d refreshes reached the server", n)
	}
	wantExit(t, c.run("", "refresh"), 0)
}

// TestParallelLoginsLeaveOneSession: parallel logins of one username each
// end the session before theirs, decided under the lock: after every
// round one session is live, and it is the stored one.
func TestParallelLoginsLeaveOneSession(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	for round := range 3 {
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() {
				if r := c.run(johnPW+"\n", "login", "-u", john, "--password-stdin"); r.code != 0 {
					t.Errorf("login: exit %d, %q", r.code, r.stderr)
				}
			})
		}
		wg.Wait()
		live := liveSessions(c.srv, john)
		a, _ := c.stored(john)
		if len(live) != 1 || live[0] != a.Tokens.SessionID {
			t.Fatalf("round %d: live sessions %v, stored %s: want only the stored one live", round, live, a.Tokens.SessionID)
		}
	}
}

// whileWaiting starts a command while the test holds the credentials
// lock, lets change rewrite the file (as another command would) once the
// command waits for the lock (it has then read what it started with),
// and returns the command's result.
func whileWaiting(t *testing.T, c *cli, change func(file map[string]any), args ...string) result {
	t.Helper()
	lockPath := filepath.Join(c.dir, "credentials.lock")
	fl := flock.New(lockPath)
	if err := fl.Lock(); err != nil {
		t.Fatal(err)
	}
	opened := watchOpens(t, lockPath)
	done := make(chan result, 1)
	go func() { done <- c.run("", args...) }()
	// The command opens the lock file when it tries the lock, after it
	// has read what it started with.
	opened("the command to wait for the lock")

	path := c.store().Path()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var file map[string]any
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	change(file)
	data, _ = json.Marshal(file)
	if err := os.WriteFile(path+".new", data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".new", path); err != nil {
		t.Fatal(err)
	}
	if err := fl.Unlock(); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		return r
	case <-time.After(20 * time.Second):
		t.Fatal("the command did not finish after the lock was released")
		return result{}
	}
}

// watchOpens returns a function that waits until path is opened by
// someone (a command trying the lock opens the lock file), watching with
// inotify from the moment watchOpens is called.
func watchOpens(t *testing.T, path string) (wait func(what string)) {
	t.Helper()
	fd, err := syscall.InotifyInit1(syscall.IN_NONBLOCK | syscall.IN_CLOEXEC)
	if err != nil {
		t.Skip("no inotify here:", err)
	}
	t.Cleanup(func() { _ = syscall.Close(fd) })
	if _, err := syscall.InotifyAddWatch(fd, path, syscall.IN_OPEN); err != nil {
		t.Fatal(err)
	}
	return func(what string) {
		t.Helper()
		buf := make([]byte, 4096)
		waitUntil(t, 10*time.Second, what, func() bool {
			n, _ := syscall.Read(fd, buf)
			return n > 0
		})
	}
}

func serverEntry(c *cli, file map[string]any) map[string]any {
	return file["servers"].(map[string]any)[c.srv.URL].(map[string]any)
}

// TestRefreshActsOnWhatIsStoredOnceLocked: refresh decides what it
// refreshes once it holds the lock. The active account switched while it
// waited: the new active account is refreshed and named. Another command
// rotated the session meanwhile: not rotated again, and it says so.
func TestRefreshActsOnWhatIsStoredOnceLocked(t *testing.T) {
	t.Parallel()
	t.Run("account switched", func(t *testing.T) {
		t.Parallel()
		c := newCLI(t)
		if _, err := c.srv.AddAccount("bob@API", "bobPassword1"); err != nil {
			t.Fatal(err)
		}
		c.saveMinted("bob@API", 0, 0)
		bobBefore, _ := c.stored("bob@API")
		c.saveMinted(john, 0, 0) // john active
		r := whileWaiting(t, c, func(file map[string]any) { serverEntry(c, file)["active"] = "bob@API" }, "refresh")
		wantExit(t, r, 0)
		if !strings.Contains(r.stderr, "Refreshed the session of bob@API") || !strings.Contains(r.stderr, "it was "+john) {
			t.Errorf("stderr %q: want bob's refresh, saying the active account changed", r.stderr)
		}
		if n := countRequests(c.srv, "refresh", 200); n != 1 {
			t.Errorf("%d refreshes sent, want 1", n)
		}
		if bobAfter, _ := c.stored("bob@API"); bobAfter.Tokens.Refresh == bobBefore.Tokens.Refresh {
			t.Error("bob's stored pair was not rotated")
		}
	})
	t.Run("rotated by another command", func(t *testing.T) {
		t.Parallel()
		c := newCLI(t)
		c.saveMinted(john, 0, 0)
		m, err := c.srv.MintSession(john, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		r := whileWaiting(t, c, func(file map[string]any) {
			serverEntry(c, file)["accounts"].(map[string]any)[john] = map[string]any{"access": m.Access, "refresh": m.Refresh}
		}, "refresh")
		wantExit(t, r, 0)
		if !strings.Contains(r.stderr, "refreshed by another command") {
			t.Errorf("stderr %q: want that another command refreshed it", r.stderr)
		}
		if n := countRequests(c.srv, "refresh", 200); n != 0 {
			t.Errorf("%d refreshes sent, want none", n)
		}
	})
}

// TestLogoutActsOnWhatIsStoredOnceLocked: a logout that finds the account
// gone once it holds the lock says that it did nothing (exit 4, nothing
// sent); one that finds another active account logs that one out and
// names it.
func TestLogoutActsOnWhatIsStoredOnceLocked(t *testing.T) {
	t.Parallel()
	t.Run("account gone", func(t *testing.T) {
		t.Parallel()
		c := newCLI(t)
		c.saveMinted(john, 0, 0)
		r := whileWaiting(t, c, func(file map[string]any) { delete(file["servers"].(map[string]any), c.srv.URL) }, "logout")
		wantExit(t, r, 4)
		if !strings.Contains(r.stderr, "nothing to log out") || !strings.Contains(r.stderr, "nothing was sent") || strings.Contains(r.stderr, "were removed") {
			t.Errorf("stderr %q: want that there was nothing to do", r.stderr)
		}
		if n := countRequests(c.srv, "logout", 200); n != 0 {
			t.Errorf("%d logouts sent, want none", n)
		}
	})
	t.Run("account switched", func(t *testing.T) {
		t.Parallel()
		c := newCLI(t)
		if _, err := c.srv.AddAccount("bob@API", "bobPassword1"); err != nil {
			t.Fatal(err)
		}
		_, bob := c.saveMinted("bob@API", 0, 0)
		_, jm := c.saveMinted(john, 0, 0)
		r := whileWaiting(t, c, func(file map[string]any) { serverEntry(c, file)["active"] = "bob@API" }, "logout")
		wantExit(t, r, 0)
		if !strings.Contains(r.stderr, "Logged out bob@API") || !strings.Contains(r.stderr, "it was "+john) {
			t.Errorf("stderr %q: want bob's logout, saying the active account changed", r.stderr)
		}
		live := strings.Join(append(liveSessions(c.srv, john), liveSessions(c.srv, "bob@API")...), ",")
		if strings.Contains(live, bob.SessionID) || !strings.Contains(live, jm.SessionID) {
			t.Errorf("live sessions %s: want bob's ended and john's kept", live)
		}
	})
}

// TestWaitingForTheLockIsInterruptible: a command waiting for the lock
// ends when it is cancelled (Ctrl-C, SIGTERM), with exit 2.
func TestWaitingForTheLockIsInterruptible(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.saveMinted(john, 0, 0)
	fl := flock.New(filepath.Join(c.dir, "credentials.lock"))
	if err := fl.Lock(); err != nil {
		t.Fatal(err)
	}
	defer fl.Unlock()
	opened := watchOpens(t, fl.Path())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan result, 1)
	go func() {
		done <- c.runRaw(ctx, "", "--server", c.srv.URL, "--config-dir", c.dir, "refresh")
	}()
	opened("refresh to wait for the lock")
	cancel()
	select {
	case r := <-done:
		wantExit(t, r, 2)
	case <-time.After(10 * time.Second):
		t.Fatal("refresh kept waiting for the lock after it was cancelled")
	}
}

// TestCredentialsFileThatIsNotAFile: a named pipe or a link to /dev/zero
// in place of credentials.json is refused at once (exit 1) by every
// command, naming the path.
func TestCredentialsFileThatIsNotAFile(t *testing.T) {
	t.Parallel()
	for name, mk := range map[string]func(string) error{
		"named pipe":        func(p string) error { return syscall.Mkfifo(p, 0o600) },
		"link to /dev/zero": func(p string) error { return os.Symlink("/dev/zero", p) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := newCLI(t)
			if err := os.MkdirAll(c.dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := mk(c.store().Path()); err != nil {
				t.Skip(err)
			}
			for _, args := range [][]string{{"status"}, {"token"}, {"refresh"}, {"logout"}, {"login", "-u", john, "--password-stdin"}} {
				done := make(chan result, 1)
				go func() { done <- c.run(johnPW+"\n", args...) }()
				select {
				case r := <-done:
					wantExit(t, r, 1)
					if !strings.Contains(r.stderr, c.store().Path()) || !strings.Contains(r.stderr, "not a regular file") {
						t.Errorf("%v: stderr %q", args, r.stderr)
					}
				case <-time.After(10 * time.Second):
					t.Fatalf("%v hangs", args)
				}
			}
		})
	}
}

// bigPair is a readable token pair too big for the room the store keeps.
func bigPair() (access, refresh string) {
	jwt := func(typ string) string {
		payload, _ := json.Marshal(map[string]any{"sid": "big-" + strings.Repeat("x", 20<<10), "sub": "id", "typ": typ,
			"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()})
		return "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." + base64.RawURLEncoding.EncodeToString(payload) + ".c2ln"
	}
	return jwt("access"), jwt("refresh")
}

// TestSaveFailingAfterTheServerAnswered: when the new pair still cannot be
// written once the server has answered (the disk filled meanwhile, and the
// pair is bigger than the room kept), the command says plainly what
// happened and what to do; login ends the session nothing stores.
func TestSaveFailingAfterTheServerAnswered(t *testing.T) {
	mnt := testutil.MountTmpfs(t, 64<<10)
	var logouts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/logout") {
			logouts.Add(1)
			_, _ = w.Write([]byte(`{"ok":true,"result":{}}`))
			return
		}
		// The disk fills while the server works.
		f, err := os.Create(filepath.Join(mnt, "filler"))
		if err == nil {
			for chunk := make([]byte, 4096); err == nil; {
				_, err = f.Write(chunk)
			}
			_ = f.Close()
		}
		access, refresh := bigPair()
		out, _ := json.Marshal(map[string]any{"ok": true, "result": map[string]any{"token": map[string]any{"access": access, "refresh": refresh}}})
		_, _ = w.Write(out)
	}))
	defer srv.Close()
	c := newCLI(t)
	c.dir = filepath.Join(mnt, "dyorctl")
	run := func(stdin string, args ...string) result {
		return c.runRaw(t.Context(), stdin, append([]string{"--server", srv.URL, "--config-dir", c.dir}, args...)...)
	}

	r := run(johnPW+"\n", "login", "-u", john, "--password-stdin")
	wantExit(t, r, 1)
	for _, want := range []string{"no space left on device", "the new session was not stored, so it was logged out again", "log in again"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("login: stderr %q lacks %q", r.stderr, want)
		}
	}
	if logouts.Load() != 1 {
		t.Errorf("%d logouts of the session nothing stores, want 1", logouts.Load())
	}

	if err := os.Remove(filepath.Join(mnt, "filler")); err != nil {
		t.Fatal(err)
	}
	// A small pair stored for the hostile server, to be refreshed there.
	c2 := newCLI(t)
	tok, _ := c2.saveMinted(john, 0, 0)
	data, _ := os.ReadFile(c2.store().Path())
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.store().Path(), []byte(strings.ReplaceAll(string(data), c2.srv.URL, srv.URL)), 0o600); err != nil {
		t.Fatal(err)
	}
	r = run("", "refresh")
	wantExit(t, r, 1)
	for _, want := range []string{"no space left on device", "the server rotated the session of " + john, "no longer work", `run "dyorctl login -u ` + john + `"`} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("refresh: stderr %q lacks %q", r.stderr, want)
		}
	}
	if a, err := c.store().Active(srv.URL); err != nil || a.Tokens.Refresh != tok.Refresh {
		t.Errorf("the stored pair changed: %v", err)
	}
}
