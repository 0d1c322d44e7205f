package clihelp

import (
	"slices"
	"testing"

	"github.com/spf13/cobra"
)

func TestProblems(t *testing.T) {
	t.Parallel()
	root := &cobra.Command{Use: "prog", Example: "  prog --addr 127.0.0.1:0", Run: func(*cobra.Command, []string) {}}
	root.Flags().String("addr", "", "listen on `HOST:PORT`")
	root.Flags().Int("n", 0, "how many")
	root.Flags().Bool("quiet", false, "say less")
	sub := &cobra.Command{Use: "sub", Run: func(*cobra.Command, []string) {}}
	sub.Flags().Duration("wait", 0, "wait this long")
	root.AddCommand(sub)
	root.InitDefaultCompletionCmd()
	AddCompletionExamples(root)

	got := Problems(root)
	want := []string{
		`prog --n shows the placeholder "int": name the value in backquotes in its usage`,
		`"prog sub" has no example`,
		`prog sub --wait shows the placeholder "duration": name the value in backquotes in its usage`,
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Problems:\n got %q\nwant %q", got, want)
	}
}
