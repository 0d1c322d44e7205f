package dyorctlcmd

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// completionScript loads "dyorctl completion bash" into bash and completes
// a few command lines, printing one line of candidates for each. The
// script needs bash-completion's _get_comp_words_by_ref: the real one when
// installed, else a minimal stand-in for it.
const completionScript = `
if [ -r /usr/share/bash-completion/bash_completion ]; then
  . /usr/share/bash-completion/bash_completion
else
  _get_comp_words_by_ref() {
    cur=${COMP_WORDS[COMP_CWORD]}; prev=${COMP_WORDS[COMP_CWORD-1]}
    words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD
  }
fi
source <(dyorctl completion bash) || exit 1
complete_line() {
  COMP_LINE="$1"; COMP_POINT=${#COMP_LINE}
  read -r -a COMP_WORDS <<<"$COMP_LINE"
  [[ $COMP_LINE == *" " ]] && COMP_WORDS+=("")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMPREPLY=()
  __start_dyorctl dyorctl
  echo "${COMPREPLY[*]}"
}
complete_line "dyorctl lo"
complete_line "dyorctl sw"
complete_line "dyorctl status --out"
complete_line "dyorctl status -o "
complete_line "dyorctl completion "
`

func TestBashCompletion(t *testing.T) {
	t.Parallel()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	bin := dyorctlBinary(t)
	cmd := exec.Command(bash, "--norc", "--noprofile", "-c", completionScript)
	cmd.Env = binEnv(t, t.TempDir())
	for i, kv := range cmd.Env {
		if strings.HasPrefix(kv, "PATH=") {
			cmd.Env[i] = "PATH=" + filepath.Dir(bin) + string(os.PathListSeparator) + os.Getenv("PATH")
		}
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr // compopt complains outside a real completion: ignored
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, stderr.String())
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	want := []string{
		"login logout",
		"switch",
		"--output",
		"text json",
		"bash fish powershell zsh",
	}
	if len(got) != len(want) {
		t.Fatalf("got %d lines of candidates, want %d:\n%s\nstderr: %s", len(got), len(want), out, stderr.String())
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("candidates %d: got %q, want %q", i, got[i], want[i])
		}
	}
}
