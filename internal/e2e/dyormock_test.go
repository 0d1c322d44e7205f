//go:build linux

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// What docs/security.md says of dyormock's defaults: it listens on the
// loopback interface unless told otherwise, and signs with a secret of its
// own per start unless one is given, so a token of one dyormock is nothing
// to another.
func TestDyormockLoopbackAndRandomSecret(t *testing.T) {
	needBinaries(t)
	help, err := exec.Command(dyormockBin, "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("dyormock --help: %v\n%s", err, help)
	}
	if !regexp.MustCompile(`--addr string\s+address to listen on.*\(default "127\.0\.0\.1:8080"\)`).Match(help) {
		t.Errorf("--addr does not default to 127.0.0.1:8080:\n%s", help)
	}

	refresh := func(m *dyormockProc, token string) int {
		req, _ := http.NewRequest(http.MethodGet, m.url+"/api/v1/account/refresh", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := controlClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var env struct {
			Error struct{ Code int } `json:"error"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&env)
		return env.Error.Code
	}
	mintRefresh := func(m *dyormockProc) string {
		res, _ := m.control(t, http.MethodPost, "/sessions", `{"username":"john@API"}`)
		var mt minted
		if err := json.Unmarshal(res, &mt); err != nil || !strings.HasPrefix(mt.Token.Refresh, "ey") {
			t.Fatalf("mint: %v %s", err, res)
		}
		return mt.Token.Refresh
	}

	// Without --secret: another dyormock does not accept the signature.
	a, b := startDyormock(t), startDyormock(t)
	if code := refresh(b, mintRefresh(a)); code != 401002 {
		t.Errorf("a token of one dyormock at another without --secret: code %d, want 401002 (bad signature)", code)
	}
	// With one --secret: the signature is accepted, the session is unknown.
	secret := randomPassword(t, 32)
	c, d := startDyormock(t, "--secret", secret), startDyormock(t, "--secret", secret)
	if code := refresh(d, mintRefresh(c)); code != 401004 {
		t.Errorf("a token of one dyormock at another with the same --secret: code %d, want 401004 (session not found)", code)
	}
	for _, m := range []*dyormockProc{a, b, c, d} {
		m.stop(t)
	}
}

// TestDyormockStateThatIsNotAFile: dyormock --state naming a named pipe or
// a link to /dev/zero stops at once (exit 1, naming the file) instead of
// waiting for a writer or reading without end.
func TestDyormockStateThatIsNotAFile(t *testing.T) {
	needBinaries(t)
	t.Parallel()
	for name, plant := range map[string]func(string) error{
		"named pipe":        func(p string) error { return syscall.Mkfifo(p, 0o600) },
		"link to /dev/zero": func(p string) error { return os.Symlink("/dev/zero", p) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "state.json")
			if err := plant(path); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, dyormockBin, "--addr", "127.0.0.1:0", "--state", path)
			out, err := cmd.CombinedOutput()
			if ctx.Err() != nil {
				t.Fatal("dyormock hung on its state file (killed after 20 s)")
			}
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(string(out), path) || !strings.Contains(string(out), "not a regular file") {
				t.Fatalf("dyormock: %v, output %q; want exit 1 naming %s", err, out, path)
			}
		})
	}
}
