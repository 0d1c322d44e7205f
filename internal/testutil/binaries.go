package testutil

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

// Binaries builds some of the module's commands once per test binary, for
// tests that run them as real processes. Declare one per package and call
// Remove from TestMain after m.Run.
type Binaries struct {
	pkgs []string // "./cmd/dyorctl", … relative to the module root
	once sync.Once
	dir  string
	err  error
}

// NewBinaries returns the builder of pkgs, given relative to the module
// root ("./cmd/dyormock").
func NewBinaries(pkgs ...string) *Binaries { return &Binaries{pkgs: pkgs} }

// Dir builds the commands (the first call only) and returns the directory
// that holds them. With -short it skips the test: building is slow.
func (b *Binaries) Dir(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binaries")
	}
	b.once.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			b.err = err
			return
		}
		if b.dir, b.err = os.MkdirTemp("", "dyorctl-test-bin-"); b.err != nil {
			return
		}
		cmd := exec.Command("go", append([]string{"build", "-o", b.dir + string(filepath.Separator)}, b.pkgs...)...)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build %v: %v\n%s", b.pkgs, err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.dir
}

// Path builds the commands and returns the path of the one named name
// ("dyormock").
func (b *Binaries) Path(t testing.TB, name string) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	return filepath.Join(b.Dir(t), name)
}

// Remove deletes what was built.
func (b *Binaries) Remove() {
	if b.dir != "" {
		_ = os.RemoveAll(b.dir)
	}
}

// moduleRoot is the nearest directory above the working directory that
// holds go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("testutil: no go.mod above the working directory")
		}
		dir = parent
	}
}
