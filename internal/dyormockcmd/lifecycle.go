package dyormockcmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/spf13/pflag"
)

// lifecycleOptions say when dyormock ends by itself, so that a test run
// that dies leaves no server behind.
type lifecycleOptions struct {
	exitWithParent   bool
	exitOnStdinClose bool
}

func (l *lifecycleOptions) bindFlags(f *pflag.FlagSet) {
	f.BoolVar(&l.exitWithParent, "exit-with-parent", false, "shut down when the process that started dyormock dies, even by SIGKILL")
	f.BoolVar(&l.exitOnStdinClose, "exit-on-stdin-close", false, "shut down when stdin reaches its end (the parent closed the pipe, or died)")
}

// watch returns a channel closed when one of the opted-in conditions
// happens, and a function saying which one did.
func (l *lifecycleOptions) watch(ctx context.Context, stdin io.Reader) (<-chan struct{}, func() string) {
	exit := make(chan struct{})
	var once sync.Once
	var reason string
	end := func(why string) {
		once.Do(func() { reason = why; close(exit) })
	}
	if l.exitWithParent {
		go func() {
			if watchParent(ctx) {
				end("the parent process died (--exit-with-parent)")
			}
		}()
	}
	if l.exitOnStdinClose {
		go func() {
			// Nothing is read from stdin but its end; a read error (a
			// closed descriptor) counts as the end too.
			_, _ = io.Copy(io.Discard, stdin)
			end("stdin was closed (--exit-on-stdin-close)")
		}()
	}
	return exit, func() string { return reason }
}

// removeStaleURLFile removes what an earlier run left at path.
func removeStaleURLFile(path string) error {
	if path == "" {
		return nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing the stale --url-file: %w", err)
	}
	return nil
}

// removeOwnURLFile removes path if it still holds url: another dyormock
// started since may have written its own URL there.
func removeOwnURLFile(path, url string, logger *slog.Logger) {
	if path == "" {
		return
	}
	b, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(bytes.TrimSpace(b), []byte(url)) {
		return
	}
	if err := os.Remove(path); err != nil {
		logger.Warn("removing --url-file", "error", err)
	}
}

// writeURLFile writes url atomically, so a CI job polling for the file
// never reads half of it.
func writeURLFile(path, url string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".dyormock-url-*")
	if err != nil {
		return err
	}
	if _, err := tmp.WriteString(url + "\n"); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// readinessLine is the one line dyormock prints on stdout when it is ready.
// A wildcard address (every interface, as in the container image) is
// served at 127.0.0.1 too, so that URL stays first; the rest of the line
// names the address really bound, and in a container says that it is the
// container's, which the host reaches only through a published port.
func readinessLine(url, addr string, bound net.Addr, container bool) string {
	line := "dyormock listening on " + url
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return line
	}
	if ip := net.ParseIP(host); host != "" && (ip == nil || !ip.IsUnspecified()) {
		return line
	}
	_, port, err := net.SplitHostPort(bound.String())
	if err != nil {
		return line
	}
	every := net.JoinHostPort(host, port)
	if container {
		return fmt.Sprintf("%s (the container's address: it listens on %s inside the container; from the host, use the port published with docker run -p %s:%s)", line, every, port, port)
	}
	return fmt.Sprintf("%s (it listens on %s, every interface of this machine)", line, every)
}

// inContainer reports whether dyormock seems to run in a container: the
// files Docker and Podman create, or the variable systemd-nspawn and
// Podman set.
func inContainer() bool {
	if v := os.Getenv("container"); strings.TrimSpace(v) != "" {
		return true
	}
	for _, f := range []string{"/.dockerenv", "/run/.containerenv"} {
		if _, err := os.Stat(f); err == nil {
			return true
		}
	}
	return false
}
