//go:build unix

package credstore_test

import (
	"errors"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dyor-exchange/dyorctl/credstore"
)

// TestNonFilesAreRefused: a credentials file that is a named pipe (whose
// open and read wait for a writer forever), a link to /dev/zero (which
// never ends) or a file over MaxFileSize is refused at once, in bounded
// memory, as unusable, naming the path (and the limit), and left as it is.
// Not parallel: it measures the memory the reads allocate.
func TestNonFilesAreRefused(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		make       func(path string) error
	}{
		{"named pipe", "not a regular file but a named pipe", func(p string) error { return syscall.Mkfifo(p, 0o600) }},
		{"link to /dev/zero", "not a regular file but a character device", func(p string) error { return os.Symlink("/dev/zero", p) }},
		{"file over the limit", "larger than the limit of 1 MiB", func(p string) error {
			f, err := os.Create(p)
			if err != nil {
				return err
			}
			defer f.Close()
			return f.Truncate(credstore.MaxFileSize + 1)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := open(t, dir)
			if err := tc.make(s.Path()); err != nil {
				t.Skip("cannot make one here:", err)
			}
			before, _ := os.Lstat(s.Path())
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			done := make(chan error, 1)
			go func() {
				_, err := s.Accounts()
				if err == nil {
					err = s.ForServer(serverA).Save(t.Context(), tokens(t, "u", "s"))
				}
				done <- err
			}()
			var err error
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("reading the store hangs")
			}
			runtime.ReadMemStats(&m1)
			if err == nil {
				t.Fatal("read and written as if it were a credentials file")
			}
			if !errors.Is(err, credstore.ErrCorrupt) || !strings.Contains(err.Error(), s.Path()) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q: want ErrCorrupt naming the path and saying %q", err, tc.want)
			}
			if grew := m1.TotalAlloc - m0.TotalAlloc; grew > 4*credstore.MaxFileSize {
				t.Errorf("reading allocated %d bytes, want at most %d", grew, 4*credstore.MaxFileSize)
			}
			after, _ := os.Lstat(s.Path())
			if !os.SameFile(before, after) || before.Mode() != after.Mode() {
				t.Error("the file was replaced")
			}
		})
	}
}
