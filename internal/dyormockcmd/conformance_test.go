package dyormockcmd

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dyor-exchange/dyorctl/conformance"
	"github.com/dyor-exchange/dyorctl/internal/testutil"
	"github.com/dyor-exchange/dyorctl/mock"
)

func runConformance(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Run(context.Background(), append([]string{"conformance"}, args...), &out, &errOut, func(string) string { return "" })
	return code, out.String(), errOut.String()
}

// noSecrets fails if out holds anything that looks like a token (a JWT
// starts with the base64 of `{"`) or one of the suite's passwords.
func noSecrets(t *testing.T, out string) {
	t.Helper()
	if strings.Contains(out, "eyJ") {
		t.Errorf("the output holds what looks like a JWT:\n%s", out)
	}
	if regexp.MustCompile(`pw-[0-9a-f]{8}`).MatchString(out) {
		t.Errorf("the output holds one of the suite's passwords:\n%s", out)
	}
}

var caseLine = regexp.MustCompile(`(?m)^(PASS|FAIL|SKIP) (\S+)`)

// dyormock conformance against a dyormock: a line per case, every case
// passes, a summary, exit 0.
func TestConformanceTextAgainstMock(t *testing.T) {
	srv := mock.Start(t, mock.WithBcryptCost(4))
	code, out, errOut := runConformance(t, "--url", srv.URL, "--rate", "0")
	if code != 0 {
		t.Fatalf("exit %d, want 0\n%s\n%s", code, out, errOut)
	}
	lines := caseLine.FindAllStringSubmatch(out, -1)
	if len(lines) != len(conformance.Cases()) || len(lines) < 40 {
		t.Fatalf("%d case lines, want one per case (%d, at least 40):\n%s", len(lines), len(conformance.Cases()), out)
	}
	for i, l := range lines {
		if l[1] != "PASS" || l[2] != conformance.Cases()[i].Name {
			t.Errorf("line %d: %q, want PASS %s", i, l[0], conformance.Cases()[i].Name)
		}
	}
	if !strings.Contains(out, fmt.Sprintf("%d passed, 0 failed, 0 skipped of %d cases against %s (with the control plane)", len(lines), len(lines), srv.URL)) {
		t.Errorf("no summary:\n%s", out)
	}
	noSecrets(t, out+errOut)
	// Every session it made was logged out or already ended.
	if n := len(srv.Sessions()); n != 0 {
		t.Errorf("%d sessions left live on the server after the run", n)
	}
	for _, a := range srv.Accounts() {
		if a.Username != mock.ExampleUsername && !strings.HasPrefix(a.Username, "conf-") {
			t.Errorf("account %q does not carry the run's prefix", a.Username)
		}
	}
}

// -o json is the report; -o junit is JUnit XML with one testcase per case.
func TestConformanceJSONAndJUnit(t *testing.T) {
	srv := mock.Start(t, mock.WithBcryptCost(4))
	code, out, errOut := runConformance(t, "--url", srv.URL, "--rate", "0", "-o", "json", "--run", "^(rotation|logout)/")
	if code != 0 {
		t.Fatalf("json: exit %d\n%s\n%s", code, out, errOut)
	}
	var rep conformance.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("-o json is not JSON: %v\n%s", err, out)
	}
	if len(rep.Results) != 8 || rep.Passed != 8 || !rep.ControlPlane || rep.Requests == 0 {
		t.Errorf("report: %d results, %d passed, control plane %v, %d requests; want the 8 rotation and logout cases passed", len(rep.Results), rep.Passed, rep.ControlPlane, rep.Requests)
	}
	for _, r := range rep.Results {
		if !strings.HasPrefix(r.Name, "rotation/") && !strings.HasPrefix(r.Name, "logout/") {
			t.Errorf("--run let %s through", r.Name)
		}
	}
	noSecrets(t, out)

	code, out, errOut = runConformance(t, "--url", srv.URL, "--rate", "0", "-o", "junit")
	if code != 0 {
		t.Fatalf("junit: exit %d\n%s\n%s", code, out, errOut)
	}
	checkJUnit(t, out, 0)
}

type junitDoc struct {
	XMLName xml.Name `xml:"testsuites"`
	Tests   int      `xml:"tests,attr"`
	Fail    int      `xml:"failures,attr"`
	Suites  []struct {
		Name  string `xml:"name,attr"`
		Tests int    `xml:"tests,attr"`
		Fail  int    `xml:"failures,attr"`
		Cases []struct {
			Name      string    `xml:"name,attr"`
			Classname string    `xml:"classname,attr"`
			Time      string    `xml:"time,attr"`
			Failure   *struct{} `xml:"failure"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

// checkJUnit parses JUnit XML and checks it has one testcase per case and
// failed failures.
func checkJUnit(t *testing.T, out string, failed int) {
	t.Helper()
	if !strings.HasPrefix(out, "<?xml ") {
		t.Errorf("no XML declaration: %.60q", out)
	}
	dec := xml.NewDecoder(strings.NewReader(out))
	for { // well-formed from start to end
		if _, err := dec.Token(); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("-o junit is not well-formed XML: %v", err)
			}
			break
		}
	}
	var doc junitDoc
	if err := xml.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("-o junit: %v", err)
	}
	n := len(conformance.Cases())
	if len(doc.Suites) != 1 || doc.Tests != n || doc.Suites[0].Tests != n || len(doc.Suites[0].Cases) != n {
		t.Fatalf("want one testsuite of %d testcases, got %d suites, tests=%d", n, len(doc.Suites), doc.Tests)
	}
	seen := map[string]bool{}
	gotFailed := 0
	for i, c := range doc.Suites[0].Cases {
		if c.Name != conformance.Cases()[i].Name || seen[c.Name] || !strings.HasPrefix(c.Classname, "conformance.") || c.Time == "" {
			t.Errorf("testcase %d: %+v", i, c)
		}
		seen[c.Name] = true
		if c.Failure != nil {
			gotFailed++
		}
	}
	if gotFailed != failed || doc.Fail != failed || doc.Suites[0].Fail != failed {
		t.Errorf("%d failure elements, failures=%d; want %d", gotFailed, doc.Fail, failed)
	}
}

func TestConformanceUsage(t *testing.T) {
	srv := mock.Start(t, mock.WithBcryptCost(4))
	for _, args := range [][]string{
		{},                                      // no --url
		{"--url", "ftp://127.0.0.1:1"},          // not http
		{"--url", "127.0.0.1:8080"},             // no scheme
		{"--url", srv.URL, "-o", "yaml"},        // no such output
		{"--url", srv.URL, "--run", "("},        // not a regular expression
		{"--url", srv.URL, "--run", "^nothing"}, // matches no case
		{"--url", srv.URL, "--rate", "-1"},
		{"--url", srv.URL, "--prefix", "has space"},
		{"--url", srv.URL, "extra"},
		{"--url", srv.URL, "--no-such-flag"},
	} {
		code, out, errOut := runConformance(t, args...)
		if code != 2 {
			t.Errorf("%q: exit %d, want 2\n%s%s", args, code, out, errOut)
		}
		if !strings.HasPrefix(errOut, "dyormock: ") || strings.Count(strings.TrimSpace(errOut), "\n") > 1 {
			t.Errorf("%q: stderr %q, want one error line and the usage hint", args, errOut)
		}
	}
}

// A server that does not answer is exit 1 with one sentence, not a run of
// failures.
func TestConformanceNoServer(t *testing.T) {
	hs := httptest.NewServer(http.NotFoundHandler())
	url := hs.URL
	hs.Close()
	code, out, errOut := runConformance(t, "--url", url)
	if code != 1 || out != "" || !strings.Contains(errOut, "does not answer") {
		t.Errorf("exit %d, stdout %q, stderr %q; want 1 and \"does not answer\"", code, out, errOut)
	}
}

func TestConformanceList(t *testing.T) {
	code, out, _ := runConformance(t, "--list")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, c := range conformance.Cases() {
		if !strings.Contains(out, c.Name+" ") {
			t.Errorf("--list lacks %s", c.Name)
		}
	}
	if !strings.Contains(out, "control plane") {
		t.Error("--list does not say which cases need the control plane")
	}
}

// Without the control plane (dyormock --admin=false, as the real backend
// is) the cases that need it are skipped with the reason, and the rest
// pass.
func TestConformanceWithoutControlPlane(t *testing.T) {
	srv := mock.Start(t, mock.WithBcryptCost(4), mock.WithAdmin(false))
	code, out, errOut := runConformance(t, "--url", srv.URL, "--rate", "0")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	skipped := 0
	for _, c := range conformance.Cases() {
		if c.Needs == "control plane" {
			skipped++
			if !strings.Contains(out, "SKIP "+c.Name+": needs dyormock's /_mock/ control plane") {
				t.Errorf("%s not skipped with its reason:\n%s", c.Name, out)
			}
		}
	}
	if skipped < 5 || strings.Contains(out, "FAIL ") {
		t.Errorf("%d skipped; output:\n%s", skipped, out)
	}
}

// The built binary against a dyormock binary passes every case, and against
// a server that matches Bearer case-sensitively exits 1 naming the case.
func TestConformanceBinary(t *testing.T) {
	bin := dyormockBinary(t) // built once; skipped with -short
	server := exec.Command(bin, "--addr", "127.0.0.1:0", "--bcrypt-cost", "4")
	var sout, serr testutil.SyncBuffer
	server.Stdout, server.Stderr = &sout, &serr
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = server.Process.Kill(); _ = server.Wait() })
	var url string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) { // polling with a deadline
		if m := readyLine.FindStringSubmatch(sout.String()); m != nil {
			url = m[1]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready: %q %q", sout.String(), serr.String())
		}
	}

	out, err := exec.Command(bin, "conformance", "--url", url, "--rate", "0", "-o", "junit").Output()
	if err != nil {
		t.Fatalf("conformance against the dyormock binary: %v\n%s", err, out)
	}
	checkJUnit(t, string(out), 0)
	noSecrets(t, string(out))

	strict := mock.Start(t, mock.WithBcryptCost(4))
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := r.Header.Get("Authorization"); h != "" && !strings.HasPrefix(h, "Bearer ") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"ok":false,"error":{"code":401001,"message":"no bearer token"}}`))
			return
		}
		strict.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	cmd := exec.Command(bin, "conformance", "--url", hs.URL, "--rate", "0")
	text, err := cmd.Output()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("against a broken server: %v, want exit 1\n%s", err, text)
	}
	if !strings.Contains(string(text), "FAIL auth/scheme-case-insensitive: want 200 ok, got 401 401001") {
		t.Errorf("the failing case is not named:\n%s", text)
	}
	junit, _ := exec.Command(bin, "conformance", "--url", hs.URL, "--rate", "0", "-o", "junit").Output()
	checkJUnit(t, string(junit), 1)
}
