package credstore_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/dyor-exchange/dyorctl/client"
	"github.com/dyor-exchange/dyorctl/credstore"
	"github.com/dyor-exchange/dyorctl/internal/testutil"
)

// changesThatSend are the store's calls that run something that may
// change a server's state (a refresh, a login) under the lock.
var changesThatSend = map[string]func(t *testing.T, s *credstore.Store, ran *bool) error{
	"Update": func(t *testing.T, s *credstore.Store, ran *bool) error {
		_, err := s.ForServer(serverA).Update(context.Background(), func(cur client.Tokens) (client.Tokens, error) {
			*ran = true
			return tokens(t, "u", "new"), nil
		})
		return err
	},
	"Login": func(t *testing.T, s *credstore.Store, ran *bool) error {
		_, _, err := s.Login(context.Background(), serverA, func() (client.Tokens, error) {
			*ran = true
			return tokens(t, "u", "new"), nil
		})
		return err
	},
}

// checkStoppedBeforeSending runs every change that sends against s and
// checks that none ran: each fails with ErrUnwritable naming the file and
// leaves the file as it was.
func checkStoppedBeforeSending(t *testing.T, s *credstore.Store, why string) {
	t.Helper()
	before, err := os.ReadFile(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	for name, change := range changesThatSend {
		ran := false
		err := change(t, s, &ran)
		if ran {
			t.Errorf("%s ran its function although the file cannot be written: a server would have changed state for nothing", name)
		}
		if !errors.Is(err, credstore.ErrUnwritable) || !strings.Contains(err.Error(), s.Path()) || !strings.Contains(err.Error(), why) {
			t.Errorf("%s: error %v, want ErrUnwritable naming %s and saying %q", name, err, s.Path(), why)
		}
	}
	after, _ := os.ReadFile(s.Path())
	if string(after) != string(before) {
		t.Error("the file changed")
	}
	entries, _ := os.ReadDir(filepath.Dir(s.Path()))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".credentials-") {
			t.Errorf("a temporary file was left: %s", e.Name())
		}
	}
}

func saveOne(t *testing.T, s *credstore.Store) {
	t.Helper()
	if err := s.ForServer(serverA).Save(context.Background(), tokens(t, "u", "old")); err != nil {
		t.Fatal(err)
	}
}

// TestFullDiskStopsTheChangeBeforeItRuns: with the disk full, a refresh or
// a login is not even started (the server would rotate or create a
// session that could not be saved); once there is room, it works.
func TestFullDiskStopsTheChangeBeforeItRuns(t *testing.T) {
	dir := testutil.MountTmpfs(t, 64<<10)
	s := open(t, filepath.Join(dir, "dyorctl"))
	saveOne(t, s)
	filler := testutil.FillDisk(t, dir)
	checkStoppedBeforeSending(t, s, "no space left on device")

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	ran := false
	if err := changesThatSend["Update"](t, s, &ran); err != nil || !ran {
		t.Fatalf("with room again: ran %v, error %v", ran, err)
	}
	if a, err := s.Active(serverA); err != nil || a.Tokens.SessionID != "new" {
		t.Fatalf("with room again the new pair was not stored: %+v, %v", a, err)
	}
}

// TestReadOnlyDirStopsTheChangeBeforeItRuns: the same in a directory that
// is read-only (a read-only mount, which binds root too).
func TestReadOnlyDirStopsTheChangeBeforeItRuns(t *testing.T) {
	dir := testutil.MountTmpfs(t, 1<<20)
	s := open(t, filepath.Join(dir, "dyorctl"))
	saveOne(t, s)
	if err := syscall.Mount("", dir, "", syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
		t.Skipf("cannot remount read-only: %v", err)
	}
	checkStoppedBeforeSending(t, s, "read-only file system")

	// Without a lock file yet, the lock cannot be taken: the same verdict.
	if err := syscall.Mount("", dir, "", syscall.MS_REMOUNT, ""); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(filepath.Dir(s.Path()), "credentials.lock")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("", dir, "", syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
		t.Fatal(err)
	}
	checkStoppedBeforeSending(t, s, "read-only file system")
}

// TestFileSizeLimitStopsTheChangeBeforeItRuns: the same under a file size
// limit (ulimit -f), in a child process so that the limit binds it alone.
func TestFileSizeLimitStopsTheChangeBeforeItRuns(t *testing.T) {
	if dir := os.Getenv("CREDSTORE_FSIZE_DIR"); dir != "" {
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: 1024, Max: 1024}); err != nil {
			t.Fatal(err)
		}
		checkStoppedBeforeSending(t, open(t, dir), "file too large")
		return
	}
	t.Parallel()
	dir := t.TempDir()
	saveOne(t, open(t, dir))
	cmd := exec.Command(os.Args[0], "-test.run=^TestFileSizeLimitStopsTheChangeBeforeItRuns$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "CREDSTORE_FSIZE_DIR="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("under a file size limit: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "--- PASS") {
		t.Fatalf("the child ran no test:\n%s", out)
	}
}

// TestSaveFailingAfterTheChangeIsReported: when the prepared write still
// fails once the change was made (here the disk fills while it runs and
// the new pair is bigger than the room kept), Update says so with
// ErrUnsaved, returns what is still stored, and leaves the file as it was.
func TestSaveFailingAfterTheChangeIsReported(t *testing.T) {
	dir := testutil.MountTmpfs(t, 64<<10)
	s := open(t, filepath.Join(dir, "dyorctl"))
	saveOne(t, s)
	before, _ := os.ReadFile(s.Path())
	after, err := s.ForServer(serverA).Update(context.Background(), func(cur client.Tokens) (client.Tokens, error) {
		testutil.FillDisk(t, dir)
		return tokens(t, "u", strings.Repeat("x", 20<<10)), nil
	})
	if !errors.Is(err, credstore.ErrUnsaved) || errors.Is(err, credstore.ErrUnwritable) || !strings.Contains(err.Error(), "no space left on device") {
		t.Fatalf("error %v, want ErrUnsaved with the cause", err)
	}
	if after.SessionID != "old" {
		t.Errorf("Update returned %v, want what is still stored (old)", after)
	}
	if now, _ := os.ReadFile(s.Path()); string(now) != string(before) {
		t.Error("the file changed")
	}
	entries, _ := os.ReadDir(filepath.Dir(s.Path()))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".credentials-") {
			t.Errorf("a temporary file was left: %s", e.Name())
		}
	}
}
