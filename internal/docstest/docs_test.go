//go:build unix

package docstest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/dyor-exchange/dyorctl/internal/testutil"
)

// skipReasons are the markers a block may carry, and what each means.
var skipReasons = map[string]string{
	"network":  "needs the real network, server or registry",
	"release":  "needs a release archive or image",
	"terminal": "needs a person at a terminal",
	"suite":    "builds or tests the project itself, which .ci/run does",
}

// block is one fenced shell block of a markdown file.
type block struct {
	file    string // relative to the repository root
	line    int    // of the opening fence
	section string // the nearest heading above it
	skip    string // its docstest marker, "" when it runs
	errors  bool   // marked "errors": its curls show error answers
	text    string
}

func (b block) name() string { return fmt.Sprintf("%s:%d", b.file, b.line) }

var (
	fence  = regexp.MustCompile("^(```+|~~~+)\\s*([A-Za-z0-9_+-]*)")
	marker = regexp.MustCompile(`^<!--\s*docstest:\s*([a-z]+)\b.*-->\s*$`)
)

func isShell(lang string) bool {
	switch lang {
	case "sh", "bash", "shell", "console":
		return true
	}
	return false
}

// extract returns the shell blocks of a markdown file, in order.
func extract(root, rel string) ([]block, error) {
	data, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		return nil, err
	}
	var blocks []block
	var section, prev string
	var cur *block
	var closing string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if cur != nil || closing != "" {
			if strings.HasPrefix(strings.TrimSpace(line), closing) && strings.Trim(strings.TrimSpace(line), closing[:1]) == "" {
				if cur != nil {
					blocks = append(blocks, *cur)
				}
				cur, closing, prev = nil, "", line
			} else if cur != nil {
				cur.text += line + "\n"
			}
			continue
		}
		if m := fence.FindStringSubmatch(line); m != nil {
			closing = m[1]
			if isShell(m[2]) {
				cur = &block{file: rel, line: n, section: section}
				if mm := marker.FindStringSubmatch(prev); mm != nil {
					if _, ok := skipReasons[mm[1]]; ok {
						cur.skip = mm[1]
					} else if mm[1] == "errors" {
						cur.errors = true
					} else {
						return nil, fmt.Errorf("%s:%d: unknown docstest marker %q", rel, n-1, mm[1])
					}
				}
			}
			prev = line
			continue
		}
		if strings.HasPrefix(line, "#") {
			section = strings.TrimSpace(strings.TrimLeft(line, "#"))
		}
		if strings.TrimSpace(line) != "" {
			prev = line
		}
	}
	if cur != nil || closing != "" {
		return nil, fmt.Errorf("%s: a fence is never closed", rel)
	}
	return blocks, sc.Err()
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// docFiles are the pages whose blocks must run: README.md and docs/*.md.
func docFiles(t *testing.T, root string) []string {
	t.Helper()
	files := []string{"README.md"}
	more, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range more {
		files = append(files, filepath.ToSlash(strings.TrimPrefix(m, root+string(filepath.Separator))))
	}
	return files
}

// binaries are dyorctl and dyormock, built once.
var binaries = testutil.NewBinaries("./cmd/dyorctl", "./cmd/dyormock")

func TestMain(m *testing.M) {
	code := m.Run()
	binaries.Remove()
	os.Exit(code)
}

// binDir builds dyorctl and dyormock once, into a directory put first on
// the sessions' PATH.
func binDir(t *testing.T) string {
	t.Helper()
	return binaries.Dir(t)
}

// tripwire is a proxy that nothing may reach: every variable a program
// reads for a proxy points at it, and loopback is exempt, so a request
// that leaves the machine (the production server, a registry) lands here.
type tripwire struct {
	url  string
	hits atomic.Int64
	mu   sync.Mutex
	seen []string
}

func newTripwire(t *testing.T) *tripwire {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tw := &tripwire{url: "http://" + ln.Addr().String()}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tw.hits.Add(1)
		tw.mu.Lock()
		tw.seen = append(tw.seen, r.Method+" "+r.Host+r.URL.Path)
		tw.mu.Unlock()
		http.Error(w, "docstest: this request would have left the machine", http.StatusForbidden)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return tw
}

func (tw *tripwire) check(t *testing.T) {
	t.Helper()
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if len(tw.seen) > 0 {
		t.Errorf("requests that would have left the machine: %q", tw.seen)
	}
}

// The password the user types at the prompts (the sessions have no
// terminal, so it comes from DYOR_PASSWORD, as the README says), and the
// $PASSWORD its script examples read.
const userPassword = "docs-password-1"

// sessionEnv is the environment of a fresh shell for one session.
func sessionEnv(t *testing.T, home string, tw *tripwire) []string {
	t.Helper()
	goEnv := map[string]string{}
	out, err := exec.Command("go", "env", "GOCACHE", "GOMODCACHE", "GOPATH", "GOROOT").Output()
	if err != nil {
		t.Fatalf("go env: %v", err)
	}
	for i, k := range []string{"GOCACHE", "GOMODCACHE", "GOPATH", "GOROOT"} {
		goEnv[k] = strings.Split(strings.TrimRight(string(out), "\n"), "\n")[i]
	}
	for _, d := range []string{"tmp", "runner", "config"} {
		if err := os.MkdirAll(filepath.Join(home, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{
		"PATH=" + binDir(t) + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + home,
		"TMPDIR=" + filepath.Join(home, "tmp"),
		"RUNNER_TEMP=" + filepath.Join(home, "runner"),
		"XDG_CONFIG_HOME=" + filepath.Join(home, "config"),
		"LANG=C.UTF-8",
		"TERM=dumb",
		"DYOR_PASSWORD=" + userPassword,
		"PASSWORD=" + userPassword,
		"GOFLAGS=-mod=readonly",
		"GOTOOLCHAIN=local",
		"GOPROXY=off", // a block that fetches modules must be marked network
	}
	for _, k := range []string{"http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"} {
		env = append(env, k+"="+tw.url)
	}
	env = append(env, "NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost")
	for k, v := range goEnv {
		env = append(env, k+"="+v)
	}
	return env
}

// sessionScript is what a user pasting blocks into one shell does, with
// each command's failure stopping the session, and every curl failing on
// an HTTP error.
func sessionScript(t *testing.T, dir string, blocks []block, epilogue string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(`set -e -o pipefail
trap 'echo "docstest: $BASH_SOURCE:$LINENO: exit $?" >&2' ERR
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
curl() {
  if [ "$DOCSTEST_CURL_ERRORS" = 1 ]; then command curl --max-time 20 "$@"
  else command curl --fail-with-body --max-time 20 "$@"; fi
}
`)
	for i, bl := range blocks {
		path := filepath.Join(dir, fmt.Sprintf("block%02d.sh", i))
		if err := os.WriteFile(path, []byte(bl.text), 0o600); err != nil {
			t.Fatal(err)
		}
		errs := 0
		if bl.errors {
			errs = 1
		}
		fmt.Fprintf(&b, "echo '::: %s' >&2\nDOCSTEST_CURL_ERRORS=%d\nsource %q\n", bl.name(), errs, path)
	}
	b.WriteString(epilogue)
	return b.String()
}

// runSession runs the blocks in one bash process (its own process group,
// killed at the end) from the repository root and returns its output.
func runSession(t *testing.T, blocks []block, epilogue string) (stdout string, tw *tripwire) {
	t.Helper()
	home := t.TempDir()
	tw = newTripwire(t)
	script := sessionScript(t, t.TempDir(), blocks, epilogue)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "--noprofile", "--norc", "-c", script)
	cmd.Dir = repoRoot(t)
	cmd.Env = sessionEnv(t, home, tw)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // whatever a block left in the background
	if err != nil {
		t.Fatalf("the session failed: %v\n--- stdout\n%s\n--- stderr (':::' starts each block)\n%s", err, out.String(), errOut.String())
	}
	return out.String(), tw
}

// Every shell block of README.md and docs/*.md runs as pasted, one session
// per file, or is marked with why it cannot.
func TestDocsBlocksRun(t *testing.T) {
	root := repoRoot(t)
	for _, file := range docFiles(t, root) {
		blocks, err := extract(root, file)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			var run []block
			for _, b := range blocks {
				if b.skip != "" {
					t.Logf("skipped %s (%s: %s)", b.name(), b.skip, skipReasons[b.skip])
					continue
				}
				run = append(run, b)
			}
			if len(run) == 0 {
				t.Skipf("%s has no block to run", file)
			}
			_, tw := runSession(t, run, "")
			tw.check(t)
		})
	}
}

// The README's quick start, pasted into a fresh shell, talks to the local
// dyormock it starts, every time: never to the production server, even
// though the mock is started in the background and the URL read at once.
func TestQuickStartTalksToTheLocalMock(t *testing.T) {
	root := repoRoot(t)
	all, err := extract(root, "README.md")
	if err != nil {
		t.Fatal(err)
	}
	var quick []block
	for _, b := range all {
		if b.section == "Quick start with the CLI" && b.skip == "" {
			quick = append(quick, b)
		}
	}
	if len(quick) < 3 {
		t.Fatalf("found %d runnable blocks under the README's \"Quick start with the CLI\"", len(quick))
	}
	// What the session ended on: the server it used and what that server saw.
	const epilogue = `
printf 'server=%s\n' "$DYOR_SERVER"
printf 'journal=%s\n' "$(command curl -s --max-time 5 "$DYOR_SERVER/_mock/requests")"
`
	const runs = 20
	sem := make(chan struct{}, 2) // 2 cores, shared
	var wg sync.WaitGroup
	for i := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			t.Run(fmt.Sprintf("run%02d", i), func(t *testing.T) {
				out, tw := runSession(t, quick, epilogue)
				tw.check(t)
				server := field(out, "server")
				if !regexp.MustCompile(`^http://127\.0\.0\.1:\d+$`).MatchString(server) {
					t.Fatalf("DYOR_SERVER was %q, not the local mock\n%s", server, out)
				}
				var journal struct {
					Result struct {
						Requests []struct {
							Method, Path string
							Status       int
						}
					}
				}
				if err := json.Unmarshal([]byte(field(out, "journal")), &journal); err != nil {
					t.Fatalf("the mock's journal: %v\n%s", err, out)
				}
				okRegister := false
				for _, r := range journal.Result.Requests {
					if r.Path == "/api/v1/account/register" && r.Status == 200 {
						okRegister = true
					}
				}
				if !okRegister {
					t.Fatalf("the local mock saw no successful register: %+v", journal.Result.Requests)
				}
			})
		}()
	}
	wg.Wait()
}

func field(out, name string) string {
	for line := range strings.SplitSeq(out, "\n") {
		if v, ok := strings.CutPrefix(line, name+"="); ok {
			return v
		}
	}
	return ""
}

func TestExtract(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	page := "# Title\n\n```sh\necho one\n```\n\n## Part\n\n<!-- docstest: network (the real server) -->\n" +
		"```bash\ncurl https://example.com\n```\n\n```go\nx := 1\n```\n\n````sh\n```\nnested\n````\n" +
		"<!-- docstest: errors -->\n```sh\ncurl -s http://127.0.0.1:1/nope\n```\n"
	if err := os.WriteFile(filepath.Join(dir, "p.md"), []byte(page), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := extract(dir, "p.md")
	if err != nil {
		t.Fatal(err)
	}
	want := []block{
		{file: "p.md", line: 3, section: "Title", text: "echo one\n"},
		{file: "p.md", line: 10, section: "Part", skip: "network", text: "curl https://example.com\n"},
		{file: "p.md", line: 18, section: "Part", text: "```\nnested\n"},
		{file: "p.md", line: 23, section: "Part", errors: true, text: "curl -s http://127.0.0.1:1/nope\n"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("extract:\n got %+v\nwant %+v", got, want)
	}

	for _, bad := range []string{"<!-- docstest: later -->\n```sh\nx\n```\n", "```sh\nnever closed\n"} {
		if err := os.WriteFile(filepath.Join(dir, "bad.md"), []byte(bad), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := extract(dir, "bad.md"); err == nil {
			t.Errorf("extract(%q): no error", bad)
		}
	}
}

// dyorctl refuses a DYOR_SERVER set but empty (what $(cat url-file) gives
// when the file is not there yet) rather than use the production server.
func TestEmptyServerIsRefused(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(binDir(t), "dyorctl")
	tw := newTripwire(t)
	for _, name := range []string{"DYOR_SERVER", "DYOR_CONFIG_DIR"} {
		cmd := exec.Command(bin, "status")
		cmd.Env = append(sessionEnv(t, t.TempDir(), tw), name+"=")
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 || out.Len() != 0 ||
			!strings.HasPrefix(errOut.String(), name+" is set but empty: ") || strings.Count(errOut.String(), "\n") != 1 {
			t.Errorf("%s= dyorctl status: %v, stdout %q, stderr %q; want exit 2 and one sentence", name, err, out.String(), errOut.String())
		}
	}
	tw.check(t)
}
