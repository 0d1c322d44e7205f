package dyorctlcmd

import (
	"strings"
	"testing"

	"github.com/dyor-exchange/dyorctl/internal/clihelp"
)

// Help in the voice of dyormock's: an example on every command (version
// and completion too), a placeholder for every flag value, and --version
// as a flag printing what version prints.
func TestHelpTextInOneVoice(t *testing.T) {
	t.Parallel()
	ios, _, _ := newTestIO("")
	for _, p := range clihelp.Problems(NewCmdRoot(NewFactory(ios, func(string) string { return "" }))) {
		t.Error(p)
	}
	c := newCLI(t)
	version := c.run("", "version")
	flag := c.run("", "--version")
	if flag.code != 0 || flag.stdout != version.stdout || !strings.HasPrefix(flag.stdout, "dyorctl ") {
		t.Errorf("--version: exit %d, %q; want what version prints, %q", flag.code, flag.stdout, version.stdout)
	}
	if r := c.run("", "completion", "zsh", "--help"); !strings.Contains(r.stdout, "dyorctl completion zsh > ~/.zfunc/_dyorctl") {
		t.Errorf("completion zsh --help has no example:\n%s", r.stdout)
	}
}
