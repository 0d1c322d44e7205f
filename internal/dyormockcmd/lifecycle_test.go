package dyormockcmd

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dyor-exchange/dyorctl/internal/testutil"
)

var binaries = testutil.NewBinaries("./cmd/dyormock")

func TestMain(m *testing.M) {
	code := m.Run()
	binaries.Remove()
	os.Exit(code)
}

// dyormockBinary builds cmd/dyormock once for the tests that need a real
// process (skipped with -short).
func dyormockBinary(t *testing.T) string {
	t.Helper()
	return binaries.Path(t, "dyormock")
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) { // polling with a deadline
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// The URL file names a live server only: a stale one is removed at start
// (even when the start then fails) and the file is removed on exit.
func TestURLFileNamesOnlyALiveServer(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	urlFile := filepath.Join(dir, "url")

	t.Run("stale file removed although the start fails", func(t *testing.T) {
		if err := os.WriteFile(urlFile, []byte("http://127.0.0.1:1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		state := filepath.Join(dir, "corrupt.json")
		if err := os.WriteFile(state, []byte("{oops"), 0o600); err != nil {
			t.Fatal(err)
		}
		var out, errOut bytes.Buffer
		code := Run(context.Background(), []string{"--addr", "127.0.0.1:0", "--url-file", urlFile, "--state", state}, &out, &errOut, noEnv)
		if code != 1 || fileExists(urlFile) {
			t.Fatalf("exit %d (want 1), url file exists: %v; stderr %s", code, fileExists(urlFile), errOut.String())
		}
	})

	t.Run("removed on exit", func(t *testing.T) {
		r := startDyormock(t, nil, "--addr", "127.0.0.1:0", "--url-file", urlFile)
		if b, _ := os.ReadFile(urlFile); strings.TrimSpace(string(b)) != r.url {
			t.Fatalf("url file %q, want %s", b, r.url)
		}
		if code := r.stop(); code != 0 {
			t.Fatalf("exit %d", code)
		}
		if fileExists(urlFile) {
			t.Fatal("the url file outlived the server")
		}
	})

	t.Run("another server's URL is left alone", func(t *testing.T) {
		r := startDyormock(t, nil, "--addr", "127.0.0.1:0", "--url-file", urlFile)
		other := "http://127.0.0.1:9\n" // as if a second dyormock had started since
		if err := os.WriteFile(urlFile, []byte(other), 0o644); err != nil {
			t.Fatal(err)
		}
		r.stop()
		if b, _ := os.ReadFile(urlFile); string(b) != other {
			t.Fatalf("url file %q, want the other server's %q", b, other)
		}
	})
}

func noEnv(string) string { return "" }

// healthcheck --wait waits for a server that is not started yet, reading
// the URL file as it appears, and prints the URL.
func TestHealthcheckWaitsForTheURLFile(t *testing.T) {
	t.Parallel()
	urlFile := filepath.Join(t.TempDir(), "url")
	type result struct {
		code        int
		out, errOut string
	}
	done := make(chan result, 1)
	go func() {
		var out, errOut bytes.Buffer
		code := Run(context.Background(), []string{"healthcheck", "--url-file", urlFile, "--wait", "20s"}, &out, &errOut, noEnv)
		done <- result{code, out.String(), errOut.String()}
	}()
	r := startDyormock(t, nil, "--addr", "127.0.0.1:0", "--url-file", urlFile)
	got := <-done
	if got.code != 0 || got.out != r.url+"\n" {
		t.Fatalf("healthcheck: exit %d, stdout %q, stderr %q; want 0 and %s", got.code, got.out, got.errOut, r.url)
	}

	// Nothing ever comes: it gives up once the wait is over, saying why.
	var out, errOut bytes.Buffer
	code := Run(context.Background(), []string{"healthcheck", "--url-file", filepath.Join(t.TempDir(), "never"), "--wait", "100ms"}, &out, &errOut, noEnv)
	if code != 1 || out.Len() != 0 || !strings.Contains(errOut.String(), "unhealthy after 100ms: no URL in") {
		t.Fatalf("healthcheck of nothing: exit %d, stdout %q, stderr %q", code, out.String(), errOut.String())
	}
}

func TestHealthcheckUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"healthcheck"},
		{"healthcheck", "--url", "http://127.0.0.1:1", "--url-file", "f"},
		{"healthcheck", "--url", "127.0.0.1:8080"},
		{"healthcheck", "--url", "http://127.0.0.1:1", "--wait", "-1s"},
	} {
		var out, errOut bytes.Buffer
		if code := Run(context.Background(), args, &out, &errOut, noEnv); code != 2 || out.Len() != 0 {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 2", args, code, out.String(), errOut.String())
		}
	}
}

// --exit-on-stdin-close: the parent closing the pipe ends the server, and
// its URL file goes with it.
func TestExitOnStdinClose(t *testing.T) {
	t.Parallel()
	urlFile := filepath.Join(t.TempDir(), "url")
	pr, pw := io.Pipe()
	var stdout, stderr testutil.SyncBuffer
	root := NewRootCmd(context.Background(), &stdout, &stderr, noEnv)
	root.SetIn(pr)
	root.SetArgs([]string{"--addr", "127.0.0.1:0", "--url-file", urlFile, "--exit-on-stdin-close"})
	done := make(chan error, 1)
	go func() { done <- root.Execute() }()
	waitFor(t, "dyormock is ready", func() bool { return readyLine.MatchString(stdout.String()) })
	select {
	case err := <-done:
		t.Fatalf("exited with stdin still open: %v", err)
	default:
	}
	pw.Close()
	if err := <-done; err != nil {
		t.Fatalf("exit: %v", err)
	}
	if fileExists(urlFile) || !strings.Contains(stderr.String(), "stdin was closed") {
		t.Fatalf("url file left: %v; log %s", fileExists(urlFile), stderr.String())
	}
}

// --exit-with-parent: the process that started dyormock is killed with
// SIGKILL (no chance to clean up), and dyormock shuts down by itself.
func TestExitWithParentSIGKILL(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the parent here is a POSIX shell")
	}
	t.Parallel()
	bin := dyormockBinary(t)
	dir := t.TempDir()
	urlFile := filepath.Join(dir, "url")
	// sh is the parent; it waits for dyormock as a test runner would.
	parent := exec.Command("sh", "-c", `"$0" --addr 127.0.0.1:0 --url-file "$1" --exit-with-parent >"$2" 2>&1 & wait`,
		bin, urlFile, filepath.Join(dir, "log"))
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = parent.Process.Kill(); _ = parent.Wait() })
	waitFor(t, "the url file is written", func() bool { return fileExists(urlFile) })
	b, _ := os.ReadFile(urlFile)
	addr := strings.TrimPrefix(strings.TrimSpace(string(b)), "http://")
	if c, err := net.Dial("tcp", addr); err != nil {
		t.Fatalf("dyormock is not listening at %s: %v", addr, err)
	} else {
		c.Close()
	}

	if err := parent.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = parent.Wait()
	// The orphan notices, removes its URL file and closes its port.
	waitFor(t, "the orphaned dyormock exits", func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return false
		}
		return !fileExists(urlFile) && errors.Is(err, syscall.ECONNREFUSED)
	})
	if log, _ := os.ReadFile(filepath.Join(dir, "log")); !bytes.Contains(log, []byte("the parent process died")) {
		t.Fatalf("no shutdown reason in the log:\n%s", log)
	}
}

// The readiness line keeps its URL first; a wildcard address is named,
// and in a container said to be the container's.
func TestReadinessLine(t *testing.T) {
	t.Parallel()
	bound := &net.TCPAddr{IP: net.IPv6unspecified, Port: 8080}
	for _, tc := range []struct {
		addr      string
		container bool
		want      string
	}{
		{"127.0.0.1:0", false, "dyormock listening on http://127.0.0.1:8080"},
		{"127.0.0.1:0", true, "dyormock listening on http://127.0.0.1:8080"},
		{"0.0.0.0:8080", false, "dyormock listening on http://127.0.0.1:8080 (it listens on 0.0.0.0:8080, every interface of this machine)"},
		{":8080", false, "dyormock listening on http://127.0.0.1:8080 (it listens on :8080, every interface of this machine)"},
		{"0.0.0.0:8080", true, "dyormock listening on http://127.0.0.1:8080 (the container's address: it listens on 0.0.0.0:8080 inside the container; from the host, use the port published with docker run -p 8080:8080)"},
		{"[::]:8080", true, "dyormock listening on http://127.0.0.1:8080 (the container's address: it listens on [::]:8080 inside the container; from the host, use the port published with docker run -p 8080:8080)"},
	} {
		if got := readinessLine("http://127.0.0.1:8080", tc.addr, bound, tc.container); got != tc.want {
			t.Errorf("readinessLine(%q, container %v)\n got %s\nwant %s", tc.addr, tc.container, got, tc.want)
		}
	}
}

// The image sets container=oci, so the readiness line says the address is
// the container's under any runtime (not all create /.dockerenv).
func TestInContainerFromTheEnvironment(t *testing.T) {
	t.Setenv("container", "oci")
	if !inContainer() {
		t.Fatal("container=oci is not taken as running in a container")
	}
}
