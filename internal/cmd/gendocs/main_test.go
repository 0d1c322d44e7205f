package main

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func noEnv(string) string { return "" }

// generateInto runs gendocs with args into a new temp dir and returns it.
func generateInto(t *testing.T, getenv func(string) string, args ...string) string {
	t.Helper()
	dir := t.TempDir()
	var stderr bytes.Buffer
	if err := run(append([]string{"-out", dir}, args...), getenv, &stderr); err != nil {
		t.Fatalf("gendocs: %v\n%s", err, stderr.String())
	}
	return dir
}

// readTree returns every file under dir by its slash path.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(path)
		files[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestReproducible(t *testing.T) {
	t.Parallel()
	first := readTree(t, generateInto(t, noEnv, "-date", "2026-01-02"))
	second := readTree(t, generateInto(t, noEnv, "-date", "2026-01-02"))
	// SOURCE_DATE_EPOCH of the same day gives the same bytes too.
	epoch := func(k string) string {
		if k == "SOURCE_DATE_EPOCH" {
			return "1767355200" // 2026-01-02T12:00:00Z
		}
		return ""
	}
	third := readTree(t, generateInto(t, epoch))
	for name, other := range map[string]map[string][]byte{"second run": second, "SOURCE_DATE_EPOCH run": third} {
		if len(other) != len(first) {
			t.Errorf("%s wrote %d files, the first %d", name, len(other), len(first))
		}
		for path, b := range first {
			if !bytes.Equal(b, other[path]) {
				t.Errorf("%s: %s differs from the first run's", name, path)
			}
		}
	}
}

func TestPagesAndCompletions(t *testing.T) {
	t.Parallel()
	dir := generateInto(t, noEnv, "-date", "2026-01-02")
	for _, name := range []string{
		"man/dyorctl.1", "man/dyorctl-login.1", "man/dyorctl-token.1", "man/dyorctl-completion-bash.1",
		"man/dyorctl-api.1", "man/dyorctl-exec.1",
		"man/dyormock.1", "man/dyormock-healthcheck.1", "man/dyormock-control-plane.1",
		"completions/dyorctl.bash", "completions/dyorctl.zsh", "completions/dyorctl.fish", "completions/dyorctl.ps1",
		"completions/dyormock.bash", "completions/dyormock.zsh", "completions/dyormock.fish", "completions/dyormock.ps1",
	} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: missing or empty (%v)", name, err)
		}
	}

	page, err := os.ReadFile(filepath.Join(dir, "man", "dyorctl.1"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(page)
	if want := `.TH "DYORCTL" "1" "Jan 2026" "dyorctl" "dyorctl manual"`; !strings.Contains(text, want+"\n") {
		t.Errorf("dyorctl.1 has no header %s:\n%s", want, firstLines(text, 3))
	}
	for _, want := range []string{
		".SH NAME", ".SH SYNOPSIS", ".SH DESCRIPTION", ".SH OPTIONS", ".SH EXAMPLE", ".SH SEE ALSO",
		`\fBdyorctl-login(1)\fP`,
		"<config dir>/credentials.json", // not taken for an HTML tag
		"DYOR_CONFIG_DIR  config dir",   // the environment list keeps its layout
		"default <user config dir>/dyorctl",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("dyorctl.1 lacks %q", want)
		}
	}
	if strings.Contains(text, "Auto generated") {
		t.Error("dyorctl.1 has cobra's auto-generated tag")
	}

	// Every page has the program's environment and exit codes, before SEE
	// ALSO, which leads to the other program; the control plane has a page.
	for page, wants := range map[string][]string{
		"dyorctl.1": {`\fBDYOR_SERVER\fP`, `\fBDYOR_CONFIG_DIR\fP`, `\fBDYOR_PASSWORD\fP`, `\fBDYOR_TOKEN\fP`,
			"Set but empty, it is refused", `\fB4\fP`, `\fB6\fP`, `\fBdyormock(1)\fP`},
		"dyorctl-login.1":          {`\fBDYOR_PASSWORD\fP`, `\fB5\fP`, `\fBdyorctl(1)\fP`, `\fBdyormock(1)\fP`},
		"dyormock.1":               {`\fBDYORMOCK_BCRYPT_COST\fP`, `\fBDYORMOCK_SEED\fP`, "one per line", `\fB2\fP`, `\fBdyormock-control-plane(1)\fP`, `\fBdyorctl(1)\fP`},
		"dyormock-healthcheck.1":   {`\fBDYORMOCK_URL\fP`, "did not answer 200"},
		"dyormock-control-plane.1": {"/_mock/faults", "404000", `\fBdyormock(1)\fP`},
	} {
		b, err := os.ReadFile(filepath.Join(dir, "man", page))
		if err != nil {
			t.Error(err)
			continue
		}
		text := string(b)
		for _, want := range wants {
			if !strings.Contains(text, want) {
				t.Errorf("%s lacks %q", page, want)
			}
		}
		env, exit, see := strings.Index(text, ".SH ENVIRONMENT"), strings.Index(text, ".SH EXIT STATUS"), strings.Index(text, ".SH SEE ALSO")
		if page == "dyormock-control-plane.1" {
			if env >= 0 || exit >= 0 || see < 0 {
				t.Errorf("%s: a topic wants SEE ALSO only (%d %d %d)", page, env, exit, see)
			}
			continue
		}
		if !(0 <= env && env < exit && exit < see) {
			t.Errorf("%s: want ENVIRONMENT, EXIT STATUS, then SEE ALSO (at %d, %d, %d)", page, env, exit, see)
		}
	}
	// The scripting commands' pages: the synopsis keeps the command last,
	// and the flags and examples are there.
	for name, wants := range map[string][]string{
		"dyorctl-exec.1":  {"[flags] -- COMMAND [ARGS...]", "--min-ttl", "DYOR_TOKEN", "dyorctl exec --min-ttl 10m -- "},
		"dyorctl-api.1":   {"-X", "--input", "--include", "401003", "dyorctl api /api/v1/orders"},
		"dyorctl-token.1": {"--min-ttl"},
		"dyorctl.1":       {"--ca-cert", "HTTPS_PROXY", `\fBdyorctl-exec(1)\fP`, `\fBdyorctl-api(1)\fP`},
	} {
		page, err := os.ReadFile(filepath.Join(dir, "man", name))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range wants {
			if !strings.Contains(string(page), want) {
				t.Errorf("%s lacks %q", name, want)
			}
		}
	}

	// Render every page with the formatters that are installed, and fail
	// on their warnings.
	pages, _ := filepath.Glob(filepath.Join(dir, "man", "*.1"))
	if groff, err := exec.LookPath("groff"); err == nil {
		for _, p := range pages {
			out, err := exec.Command(groff, "-man", "-Tutf8", "-ww", "-z", p).CombinedOutput()
			if err != nil || len(out) > 0 {
				t.Errorf("groff %s: %v\n%s", filepath.Base(p), err, out)
			}
		}
	}
	if mandoc, err := exec.LookPath("mandoc"); err == nil {
		for _, p := range pages {
			out, err := exec.Command(mandoc, "-T", "lint", "-W", "error", p).CombinedOutput()
			if err != nil {
				t.Errorf("mandoc %s: %v\n%s", filepath.Base(p), err, out)
			}
		}
	}
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	return strings.Join(lines[:min(n, len(lines))], "\n")
}

func TestManMarkdown(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"plain text", "plain text"},
		{"in <config dir>/x, a_b *c*", `in \<config dir\>/x, a\_b \*c\*`},
		{"List:\n  a  one\n  b  two\n\nAfter.", "List:\n\n```\na  one\nb  two\n```\n\nAfter."},
		{"Run:\n\n\tsource <(x)\n\nThen.", "Run:\n\n```\nsource <(x)\n```\n\nThen."},
		{"Ends in a block:\n  x", "Ends in a block:\n\n```\nx\n```"},
		{"  a\n\n  b", "\n```\na\n\nb\n```"},
		{"#### Linux:", "#### Linux:"},
	} {
		if got := manMarkdown(tc.in); got != tc.want {
			t.Errorf("manMarkdown(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

func TestHeaderDate(t *testing.T) {
	t.Parallel()
	want := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		flag, epoch string
		want        time.Time
		wantErr     bool
	}{
		{flag: "2026-01-02", want: want},
		{flag: "2026-01-02T00:00:00Z", want: want},
		{flag: "1767312000", want: want},
		{flag: "2026-01-02", epoch: "0", want: want}, // the flag wins
		{epoch: "1767312000", want: want},
		{flag: "yesterday", wantErr: true},
		{epoch: "soon", wantErr: true},
	} {
		got, err := headerDate(tc.flag, func(k string) string {
			if k == "SOURCE_DATE_EPOCH" {
				return tc.epoch
			}
			return ""
		})
		if (err != nil) != tc.wantErr || (!tc.wantErr && !got.Equal(tc.want)) {
			t.Errorf("headerDate(%q, SOURCE_DATE_EPOCH=%q) = %v, %v", tc.flag, tc.epoch, got, err)
		}
	}
}

func TestUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{nil, {"-out"}, {"-out", t.TempDir(), "extra"}, {"-bogus"}} {
		if err := run(args, noEnv, io.Discard); err == nil {
			t.Errorf("gendocs %q: no error", args)
		}
	}
}
