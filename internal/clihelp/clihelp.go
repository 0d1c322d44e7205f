// Package clihelp keeps the help text of dyorctl and dyormock in one voice:
// the same --version flag, the same completion examples, and a check that
// every command has an example and every flag value a placeholder.
package clihelp

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// AddVersionFlag makes root's --version print version, as the version
// command prints it.
func AddVersionFlag(root *cobra.Command, version string) {
	root.Version = version
	root.SetVersionTemplate("{{.Version}}\n")
	root.Flags().Bool("version", false, "print the version, as the version command does")
}

// AddCompletionExamples gives cobra's completion command, and its command
// per shell, an example each. root.InitDefaultCompletionCmd must have run.
func AddCompletionExamples(root *cobra.Command) {
	prog := root.Name()
	examples := map[string]string{
		"bash":       fmt.Sprintf("source <(%[1]s completion bash)   # this shell; needs the bash-completion package", prog),
		"zsh":        fmt.Sprintf("mkdir -p ~/.zfunc && %[1]s completion zsh > ~/.zfunc/_%[1]s   # and fpath=(~/.zfunc $fpath) before compinit", prog),
		"fish":       fmt.Sprintf("%[1]s completion fish > ~/.config/fish/completions/%[1]s.fish", prog),
		"powershell": fmt.Sprintf("%s completion powershell | Out-String | Invoke-Expression", prog),
	}
	for _, c := range root.Commands() {
		if c.Name() != "completion" {
			continue
		}
		var all []string
		for _, sub := range c.Commands() {
			if ex, ok := examples[sub.Name()]; ok {
				sub.Example = indent(ex)
				all = append(all, ex)
			}
		}
		c.Example = indent(strings.Join(all, "\n"))
	}
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}

// bareTypes are the placeholders pflag shows when a usage string names
// none in backquotes: they say the type, not what to write.
var bareTypes = map[string]bool{
	"string": true, "int": true, "int64": true, "uint": true, "float": true, "float64": true,
	"duration": true, "strings": true, "stringArray": true, "ints": true, "value": true,
}

// Problems lists where root's tree breaks the house style: a command
// without an example, a flag whose value has no placeholder (`--addr
// string` instead of `--addr HOST:PORT`). Empty when all is well.
func Problems(root *cobra.Command) []string {
	var problems []string
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Name() != "help" && !c.Hidden && strings.TrimSpace(c.Example) == "" {
			problems = append(problems, fmt.Sprintf("%q has no example", c.CommandPath()))
		}
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if name, _ := pflag.UnquoteUsage(f); bareTypes[name] {
				problems = append(problems, fmt.Sprintf("%s --%s shows the placeholder %q: name the value in backquotes in its usage", c.CommandPath(), f.Name, name))
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	return problems
}
