//go:build unix

package dyormockcmd

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dyor-exchange/dyorctl/mock"
)

// TestStateFileThatIsNotAFile: --state naming a named pipe (opening it
// waits for a writer), a link to /dev/zero (never ends) or a file over the
// limit stops the start at once with exit 1 and a sentence naming the path
// and the problem, and the file is left as it is.
func TestStateFileThatIsNotAFile(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, want string
		make       func(path string) error
	}{
		{"named pipe", "not a regular file", func(p string) error { return syscall.Mkfifo(p, 0o600) }},
		{"link to /dev/zero", "not a regular file", func(p string) error { return os.Symlink("/dev/zero", p) }},
		{"file over the limit", "larger than the limit of 64 MiB", func(p string) error {
			f, err := os.Create(p)
			if err != nil {
				return err
			}
			defer f.Close()
			return f.Truncate(mock.MaxStateFileSize + 1)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "state.json")
			if err := tc.make(path); err != nil {
				t.Skip("cannot make one here:", err)
			}
			before, _ := os.Lstat(path)
			var out, errOut bytes.Buffer
			done := make(chan int, 1)
			go func() {
				done <- Run(context.Background(), []string{"--addr", "127.0.0.1:0", "--state", path}, &out, &errOut, func(string) string { return "" })
			}()
			var code int
			select {
			case code = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("dyormock hangs reading the state file")
			}
			if code != 1 || !strings.Contains(errOut.String(), path) || !strings.Contains(errOut.String(), tc.want) || out.Len() != 0 {
				t.Fatalf("exit %d, stderr %q; want 1 naming %s and saying %q", code, errOut.String(), path, tc.want)
			}
			after, _ := os.Lstat(path)
			if !os.SameFile(before, after) || before.Mode() != after.Mode() {
				t.Error("the state file was replaced")
			}
		})
	}
}
