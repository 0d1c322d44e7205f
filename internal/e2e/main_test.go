package e2e

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The binaries under test, built once by TestMain from the module's root
// (found with "go env GOMOD", so the package can move without breaking
// this). Empty under -short: the tests that need them skip.
var (
	dyorctlBin  string
	dyormockBin string
)

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "dyorctl-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := buildBinaries(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		_ = os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

func buildBinaries(dir string) error {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return fmt.Errorf("go env GOMOD: not in a module")
	}
	root := filepath.Dir(gomod)
	exe := ""
	if runtime.GOOS == "windows" {
		exe = ".exe"
	}
	dyorctlBin = filepath.Join(dir, "dyorctl"+exe)
	dyormockBin = filepath.Join(dir, "dyormock"+exe)
	for bin, pkg := range map[string]string{dyorctlBin: "./cmd/dyorctl", dyormockBin: "./cmd/dyormock"} {
		cmd := exec.Command("go", "build", "-o", bin, pkg)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build -o %s %s: %v\n%s", bin, pkg, err, out)
		}
	}
	return nil
}

// needBinaries skips the test under -short.
func needBinaries(t *testing.T) {
	t.Helper()
	if dyorctlBin == "" {
		t.Skip("builds and runs the binaries (not with -short)")
	}
}
