// Command dyorctl logs in to the DYOR account API from the terminal and from
// scripts: register, login, refresh, logout, status, token, switch, and an
// interactive app (dyorctl tui). Run "dyorctl --help" for the details.
package main

import "os"

func main() {
	os.Exit(Main(os.Args[1:], SystemIO(), os.Getenv))
}
