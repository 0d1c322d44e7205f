// Package dyorctlcmd is the dyorctl command tree: Main maps a command line
// to an exit code, and NewCmdRoot builds the cobra commands from a Factory.
// cmd/dyorctl is a tiny main over it, and internal/cmd/gendocs imports it to
// write the man pages and shell completions.
package dyorctlcmd
