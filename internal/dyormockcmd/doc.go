// Package dyormockcmd is the dyormock command tree: Run maps a command line
// to an exit code, and NewRootCmd builds the cobra commands. cmd/dyormock is
// a tiny main over it, and internal/cmd/gendocs imports it to write the man
// pages and shell completions.
package dyormockcmd
