package dyormockcmd

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/dyor-exchange/dyorctl/internal/clihelp"
)

// Help in the voice of dyorctl's: an example on every command, a
// placeholder for every flag value, --version as a flag too, and the same
// usage hint after a usage error.
func TestHelpTextInOneVoice(t *testing.T) {
	t.Parallel()
	for _, p := range clihelp.Problems(NewRootCmd(context.Background(), &bytes.Buffer{}, &bytes.Buffer{}, noEnv)) {
		t.Error(p)
	}

	run := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := Run(context.Background(), args, &out, &errOut, noEnv)
		return code, out.String(), errOut.String()
	}
	_, version, _ := run("version")
	if code, flag, _ := run("--version"); code != 0 || flag != version || !strings.HasPrefix(flag, "dyormock ") {
		t.Errorf("--version: exit %d, %q; want what version prints, %q", code, flag, version)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--nope"}, `dyormock: unknown flag: --nope (see "dyormock --help")` + "\n"},
		{[]string{"healthcheck", "--url", "http://127.0.0.1:1", "extra"}, `(see "dyormock healthcheck --help")` + "\n"},
	} {
		if code, out, errOut := run(tc.args...); code != 2 || out != "" || !strings.HasSuffix(errOut, tc.want) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 2 and one line ending %q", tc.args, code, out, errOut, tc.want)
		}
	}
	if _, out, _ := run("completion", "zsh", "--help"); !strings.Contains(out, "dyormock completion zsh > ~/.zfunc/_dyormock") {
		t.Errorf("completion zsh --help has no example:\n%s", out)
	}
}
