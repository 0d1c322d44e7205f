// Command dyorctl logs in to the DYOR account API from the terminal and from
// scripts: register, login, refresh, logout, status, token, switch, api,
// exec, and an interactive app (dyorctl tui). Run "dyorctl --help" for the
// details.
//
// The commands live in internal/dyorctlcmd, so that tools such as the man
// page generator (internal/cmd/gendocs) can import the command tree.
package main

import (
	"os"

	"github.com/dyor-exchange/dyorctl/internal/dyorctlcmd"
)

func main() {
	os.Exit(dyorctlcmd.Main(os.Args[1:], dyorctlcmd.SystemIO(), os.Getenv))
}
