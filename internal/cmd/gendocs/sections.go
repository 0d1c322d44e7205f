package main

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// entry is one item of a man page list: a tag and what it means.
type entry struct{ tag, text string }

// dyorctlEnvironment is what dyorctl reads from the environment besides
// the variables its flags name as "(env NAME)", which are added from the
// flags themselves, so that a new one cannot be left out.
var dyorctlEnvironment = []entry{
	{"DYOR_PASSWORD", "The password for register and login, instead of the prompt (--password-stdin beats it). It is never stored."},
	{"DYOR_TOKEN", "An access token that dyorctl token prints instead of the stored one, and that status shows as the source."},
	{"NO_COLOR", "When set, the interactive app uses no colour."},
	{"XDG_CONFIG_HOME", "On Linux, the user config directory under which the default config dir, dyorctl, is (else ~/.config)."},
}

// dyorctlExitStatus is the same for every dyorctl command.
var dyorctlExitStatus = []entry{
	{"0", "Success."},
	{"1", "Another failure, for example a corrupt credentials file."},
	{"2", "A usage error (an unknown command or flag, a bad value, a missing argument or password, input breaking the username or password rules, a set but empty DYOR_SERVER or DYOR_CONFIG_DIR), or cancelled."},
	{"4", "Authentication required: not logged in, or the session expired or was revoked. Run dyorctl login -u USERNAME."},
	{"5", "Credentials rejected: unknown account, wrong password, account locked, username taken."},
	{"6", "The server was unreachable, timed out or answered 5xx (the tokens are kept, except by logout)."},
}

var dyormockExitStatus = []entry{
	{"0", "The server shut down after SIGINT or SIGTERM (or --exit-with-parent, --exit-on-stdin-close); healthcheck: the server is healthy; version and help."},
	{"1", "The server could not start (the address is taken, a corrupt --state file) or failed; healthcheck: the server did not answer 200 in time."},
	{"2", "A usage error: an unknown flag or argument, or a bad flag or DYORMOCK_* value."},
}

// sections are the ENVIRONMENT and EXIT STATUS of one program.
type sections struct {
	environment, exitStatus []entry
	seeAlso                 []string // pages of the other program and the topics
}

var envInUsage = regexp.MustCompile(`\(env ([A-Z][A-Z0-9_]*)`)

// extraSections returns the sections of root's program, the environment
// taken from its flags where they name it.
func extraSections(root *cobra.Command) sections {
	switch root.Name() {
	case "dyorctl":
		var env []entry
		forEachCommand(root, func(c *cobra.Command) {
			c.NonInheritedFlags().VisitAll(func(f *pflag.Flag) {
				if m := envInUsage.FindStringSubmatch(f.Usage); m != nil {
					_, usage := pflag.UnquoteUsage(f)
					what := strings.TrimSpace(envInUsage.Split(usage, 2)[0])
					env = append(env, entry{m[1], fmt.Sprintf("The %s, when --%s is not given. Set but empty, it is refused.", what, f.Name)})
				}
			})
		})
		env = append(env, dyorctlEnvironment...)
		return sections{environment: uniqueSorted(env), exitStatus: dyorctlExitStatus, seeAlso: []string{"dyormock(1)"}}
	case "dyormock":
		var env []entry
		forEachCommand(root, func(c *cobra.Command) {
			if c == root {
				c.Flags().VisitAll(func(f *pflag.Flag) {
					if f.Name == "help" || f.Name == "version" {
						return
					}
					name := "DYORMOCK_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
					text := fmt.Sprintf("The value of --%s when the flag is not given.", f.Name)
					if f.Value.Type() == "stringArray" {
						text = fmt.Sprintf("The values of --%s, one per line, when the flag is not given.", f.Name)
					}
					env = append(env, entry{name, text})
				})
			}
			c.NonInheritedFlags().VisitAll(func(f *pflag.Flag) {
				if m := envInUsage.FindStringSubmatch(f.Usage); m != nil {
					env = append(env, entry{m[1], fmt.Sprintf("The value of %s --%s when the flag is not given.", c.CommandPath(), f.Name)})
				}
			})
		})
		return sections{
			environment: uniqueSorted(env),
			exitStatus:  dyormockExitStatus,
			seeAlso:     []string{"dyormock-control-plane(1)", "dyorctl(1)"},
		}
	}
	return sections{}
}

func uniqueSorted(es []entry) []entry {
	slices.SortStableFunc(es, func(a, b entry) int { return strings.Compare(a.tag, b.tag) })
	return slices.CompactFunc(es, func(a, b entry) bool { return a.tag == b.tag })
}

// seeAlso lists the pages a reader of c's page goes to next, besides the
// parent and children cobra lists: the root page, the help topics, and the
// other program.
func seeAlso(root, c *cobra.Command) []string {
	var pages []string
	if c != root && c.Parent() != root {
		pages = append(pages, root.Name()+"(1)")
	}
	pages = append(pages, extraSections(root).seeAlso...)
	self := strings.ReplaceAll(c.CommandPath(), " ", "-") + "(1)"
	return slices.DeleteFunc(pages, func(p string) bool { return p == self })
}

// addSections puts ENVIRONMENT and EXIT STATUS before SEE ALSO (the order
// of man-pages(7)), and the pages of more to SEE ALSO.
func addSections(page string, s sections, more []string) string {
	var b strings.Builder
	writeList(&b, "ENVIRONMENT", s.environment)
	writeList(&b, "EXIT STATUS", s.exitStatus)
	var refs []string
	for _, p := range more {
		name, section, _ := strings.Cut(strings.TrimSuffix(p, ")"), "(")
		refs = append(refs, fmt.Sprintf(`\fB%s(%s)\fP`, name, section))
	}
	const seeAlso = ".SH SEE ALSO\n"
	head, tail, found := strings.Cut(page, seeAlso)
	if !found {
		if len(refs) > 0 {
			b.WriteString(seeAlso + strings.Join(refs, ", ") + "\n")
		}
		return page + b.String()
	}
	// cobra's SEE ALSO is one line of references.
	line, rest, _ := strings.Cut(tail, "\n")
	if len(refs) > 0 {
		line += ", " + strings.Join(refs, ", ")
	}
	return head + b.String() + seeAlso + line + "\n" + rest
}

func writeList(b *strings.Builder, title string, es []entry) {
	if len(es) == 0 {
		return
	}
	b.WriteString(".SH " + title + "\n")
	for _, e := range es {
		fmt.Fprintf(b, ".TP\n\\fB%s\\fP\n%s\n", roffEscape(e.tag), roffEscape(e.text))
	}
}

// roffEscape makes text safe as a roff text line.
func roffEscape(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}
