package dyormockcmd

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dyor-exchange/dyorctl/internal/testutil"
)

type running struct {
	url            string
	stdout, stderr *testutil.SyncBuffer
	stop           func() int // cancels (as SIGTERM would) and returns the exit code
}

var readyLine = regexp.MustCompile(`^dyormock listening on (http://127\.0\.0\.1:\d+)\n$`)

// startDyormock runs dyormock in process with args and env, and waits for
// its readiness line.
func startDyormock(t *testing.T, env map[string]string, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{stdout: &testutil.SyncBuffer{}, stderr: &testutil.SyncBuffer{}}
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, args, r.stdout, r.stderr, func(k string) string { return env[k] })
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if m := readyLine.FindStringSubmatch(r.stdout.String()); m != nil {
			r.url = m[1]
			break
		}
		select {
		case code := <-done:
			t.Fatalf("dyormock exited %d before it was ready\nstderr: %s", code, r.stderr)
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("no readiness line; stdout %q stderr %q", r.stdout, r.stderr)
		}
		time.Sleep(5 * time.Millisecond) // polling with a deadline
	}
	var once sync.Once
	code := -1
	r.stop = func() int {
		once.Do(func() { cancel(); code = <-done })
		return code
	}
	t.Cleanup(func() { r.stop() })
	return r
}

func post(t *testing.T, url, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

func TestServeSeedLoginAndShutdown(t *testing.T) {
	t.Parallel()
	urlFile := filepath.Join(t.TempDir(), "url")
	r := startDyormock(t, nil, "--addr", "127.0.0.1:0", "--url-file", urlFile, "--bcrypt-cost", "4", "--log-level", "debug")
	got, err := os.ReadFile(urlFile)
	if err != nil || strings.TrimSpace(string(got)) != r.url {
		t.Fatalf("url file = %q, %v; want %s", got, err, r.url)
	}
	status, body := post(t, r.url+"/api/v1/account/login", `{"username":"john@API","password":"honeyBunnies"}`)
	if status != 200 || !strings.HasPrefix(body, `{"ok":true,"result":{"token":{"access":"ey`) {
		t.Fatalf("seed login: %d %s", status, body)
	}
	var env struct {
		Result struct {
			Token struct{ Access, Refresh string }
		}
	}
	_ = json.Unmarshal([]byte(body), &env)
	if code := r.stop(); code != 0 {
		t.Fatalf("exit %d after shutdown; stderr %s", code, r.stderr)
	}
	if strings.Count(r.stdout.String(), "\n") != 1 {
		t.Errorf("stdout is more than the one readiness line: %q", r.stdout)
	}
	logs := r.stderr.String()
	if !strings.Contains(logs, "path=/api/v1/account/login") {
		t.Errorf("debug log has no request line: %s", logs)
	}
	for _, secret := range []string{"honeyBunnies", env.Result.Token.Access[20:36], env.Result.Token.Refresh[len(env.Result.Token.Refresh)-16:]} {
		if strings.Contains(logs, secret) {
			t.Fatalf("logs hold a secret: %s", logs)
		}
	}
}

func TestEnvironmentAndFlags(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"DYORMOCK_ADDR":        "127.0.0.1:0",
		"DYORMOCK_BCRYPT_COST": "4",
		"DYORMOCK_SEED":        "alice:password-a\nbob:password-b\n",
		"DYORMOCK_ACCESS_TTL":  "1h", // the flag below beats it
		"DYORMOCK_ADMIN":       "false",
	}
	r := startDyormock(t, env, "--access-ttl", "2m")
	for _, u := range []string{"alice:password-a", "bob:password-b"} {
		user, pass, _ := strings.Cut(u, ":")
		if status, body := post(t, r.url+"/api/v1/account/login", `{"username":"`+user+`","password":"`+pass+`"}`); status != 200 {
			t.Fatalf("seed %s: %d %s", user, status, body)
		}
	}
	if status, _ := post(t, r.url+"/api/v1/account/login", `{"username":"john@API","password":"honeyBunnies"}`); status != 404 {
		t.Fatalf("john@API exists although seeds were given: %d", status)
	}
	resp, err := http.Get(r.url + "/_mock/accounts")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("DYORMOCK_ADMIN=false: /_mock/ answered %d", resp.StatusCode)
	}
	_, body := post(t, r.url+"/api/v1/account/login", `{"username":"alice","password":"password-a"}`)
	var env2 struct {
		Result struct{ Token struct{ Access string } }
	}
	_ = json.Unmarshal([]byte(body), &env2)
	parts := strings.Split(env2.Result.Token.Access, ".")
	payload, _ := decodeSegment(parts[1])
	var c struct{ Iat, Exp int64 }
	_ = json.Unmarshal(payload, &c)
	if c.Exp-c.Iat != 120 {
		t.Fatalf("access lifetime %ds, want the flag's 120s", c.Exp-c.Iat)
	}
}

// The rotation grace comes from --refresh-grace or DYORMOCK_REFRESH_GRACE
// (the flag beats the variable) and shows in the settings.
func TestRefreshGraceFlagAndEnv(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"default", nil, nil, "0s"},
		{"env", map[string]string{"DYORMOCK_REFRESH_GRACE": "5s"}, nil, "5s"},
		{"flag beats env", map[string]string{"DYORMOCK_REFRESH_GRACE": "5s"}, []string{"--refresh-grace", "1m"}, "1m0s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := startDyormock(t, tc.env, append([]string{"--addr", "127.0.0.1:0", "--bcrypt-cost", "4"}, tc.args...)...)
			resp, err := http.Get(r.url + "/_mock/settings")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var got struct {
				Result struct {
					RefreshGrace string `json:"refresh_grace"`
				}
			}
			if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || got.Result.RefreshGrace != tc.want {
				t.Fatalf("refresh_grace = %q (%v), want %q", got.Result.RefreshGrace, err, tc.want)
			}
		})
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"seed and no-seed", nil, []string{"--seed", "a:password1", "--no-seed"}, "--seed and --no-seed"},
		{"bad seed", nil, []string{"--seed", "nocolon"}, "user:password"},
		{"bad env", map[string]string{"DYORMOCK_ACCESS_TTL": "soon"}, nil, "DYORMOCK_ACCESS_TTL"},
		{"unknown flag", nil, []string{"--nope"}, "unknown flag"},
		{"bad log level", nil, []string{"--log-level", "loud"}, "--log-level"},
		{"bad cost", nil, []string{"--bcrypt-cost", "99"}, "bcrypt cost"},
		{"extra argument", nil, []string{"serve"}, "unknown command"},
		{"a secret that lost its flag", nil, []string{"--seed", "alice", "Secret-Pass-42"}, "unknown command"},
		{"grace over the refresh TTL", nil, []string{"--refresh-ttl", "1m", "--refresh-grace", "2m"}, "refresh grace 2m0s"},
		{"bad grace env", map[string]string{"DYORMOCK_REFRESH_GRACE": "soon"}, nil, "DYORMOCK_REFRESH_GRACE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			code := Run(context.Background(), append([]string{"--addr", "127.0.0.1:0"}, tc.args...), &out, &errOut, func(k string) string { return tc.env[k] })
			if code != 2 || !strings.Contains(errOut.String(), tc.want) || out.Len() != 0 || strings.Contains(errOut.String(), "dyormock: mock:") ||
				strings.Contains(errOut.String(), "Secret-Pass-42") {
				t.Fatalf("exit %d, stdout %q, stderr %q; want 2 and %q", code, out.String(), errOut.String(), tc.want)
			}
		})
	}
}

func TestCorruptStateFileStopsStart(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.json")
	if err := os.WriteFile(path, []byte("{oops"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := Run(context.Background(), []string{"--addr", "127.0.0.1:0", "--state", path}, &out, &errOut, func(string) string { return "" })
	if code != 1 || !strings.Contains(errOut.String(), path) || out.Len() != 0 {
		t.Fatalf("exit %d, stderr %q; want 1 naming %s", code, errOut.String(), path)
	}
	if b, _ := os.ReadFile(path); string(b) != "{oops" {
		t.Fatal("corrupt state file was changed")
	}
}

func TestHealthcheckAndVersion(t *testing.T) {
	t.Parallel()
	r := startDyormock(t, nil, "--addr", "127.0.0.1:0")
	var out, errOut bytes.Buffer
	if code := Run(context.Background(), []string{"healthcheck", "--url", r.url}, &out, &errOut, os.Getenv); code != 0 {
		t.Fatalf("healthcheck of a running server: exit %d %s", code, errOut.String())
	}
	r.stop()
	out.Reset()
	errOut.Reset()
	if code := Run(context.Background(), []string{"healthcheck", "--url", r.url}, &out, &errOut, os.Getenv); code != 1 {
		t.Fatalf("healthcheck of a stopped server: exit %d", code)
	}
	out.Reset()
	if code := Run(context.Background(), []string{"version"}, &out, &errOut, os.Getenv); code != 0 || !strings.HasPrefix(out.String(), "dyormock ") {
		t.Fatalf("version: %d %q", code, out.String())
	}
}

// The real binary: SIGTERM lets an in-flight request finish and exits 0.
func TestSIGTERMGracefulShutdown(t *testing.T) {
	t.Parallel()
	bin := dyormockBinary(t)
	urlFile := filepath.Join(t.TempDir(), "url")
	cmd := exec.Command(bin, "--addr", "127.0.0.1:0", "--url-file", urlFile, "--bcrypt-cost", "4")
	var stdout, stderr testutil.SyncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	var url string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if m := readyLine.FindStringSubmatch(stdout.String()); m != nil {
			url = m[1]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready: %q %q", stdout.String(), stderr.String())
		}
	}
	// A slow login is in flight when SIGTERM arrives.
	if status, body := post(t, url+"/_mock/faults", `{"route":"login","delay":"300ms","times":1}`); status != 200 {
		t.Fatalf("fault: %d %s", status, body)
	}
	answered := make(chan int, 1)
	go func() {
		resp, err := http.Post(url+"/api/v1/account/login", "application/json", strings.NewReader(`{"username":"john@API","password":"honeyBunnies"}`))
		if err != nil {
			answered <- 0
			return
		}
		resp.Body.Close()
		answered <- resp.StatusCode
	}()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		_, body := getBody(t, url+"/_mock/faults")
		if strings.Contains(body, `"faults":[]`) {
			break // the rule fired: the login is waiting
		}
		if time.Now().After(deadline) {
			t.Fatal("the login never reached the server")
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, stderr.String())
	}
	if status := <-answered; status != 200 {
		t.Fatalf("the in-flight login got %d, want 200", status)
	}
}

func getBody(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

func decodeSegment(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(s)
}

// A restart with --state and --secret keeps accounts and sessions: a token
// issued before the restart refreshes after it.
func TestStateAndSecretSurviveRestart(t *testing.T) {
	t.Parallel()
	state := filepath.Join(t.TempDir(), "state.json")
	args := []string{"--addr", "127.0.0.1:0", "--bcrypt-cost", "4", "--state", state}
	env := map[string]string{"DYORMOCK_SECRET": "a fixed secret for this test"}

	first := startDyormock(t, env, args...)
	if status, body := post(t, first.url+"/api/v1/account/register", `{"username":"alice","password":"password-a"}`); status != 200 {
		t.Fatalf("register: %d %s", status, body)
	}
	_, body := post(t, first.url+"/api/v1/account/login", `{"username":"alice","password":"password-a"}`)
	var env1 struct {
		Result struct{ Token struct{ Refresh string } }
	}
	if err := json.Unmarshal([]byte(body), &env1); err != nil || env1.Result.Token.Refresh == "" {
		t.Fatalf("login: %s", body)
	}
	if code := first.stop(); code != 0 {
		t.Fatalf("first dyormock exited %d: %s", code, first.stderr)
	}

	second := startDyormock(t, env, args...)
	req, _ := http.NewRequest("GET", second.url+"/api/v1/account/refresh", nil)
	req.Header.Set("Authorization", "Bearer "+env1.Result.Token.Refresh)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("refresh of a token issued before the restart: %s", resp.Status)
	}
	if status, body := post(t, second.url+"/api/v1/account/login", `{"username":"alice","password":"password-a"}`); status != 200 {
		t.Fatalf("login after restart: %d %s", status, body)
	}
}
