// Package e2e holds end-to-end tests that cross every part of the project:
// the real dyorctl and dyormock binaries run as subprocesses, the TUI driven
// through teatest, and the SDK, the credential store and the mock in between.
//
// Its main test, TestNoSecretLeaks, drives a whole flow — register, login
// (prompted on a pseudo-terminal, --password-stdin and DYOR_PASSWORD),
// refresh, token, status, switch, api, exec, logout, and every failure path — with -v
// on every command, against dyormock at --log-level debug, and then checks
// that no password and no token, nor any 16-character piece of one, appears
// in any stdout, stderr, terminal, log line, journal entry, state file or TUI
// frame. The one place a token may be printed is the stdout of
// "dyorctl token" (and the environment of the command "dyorctl exec" runs,
// whose command lines, its own and dyorctl's, are printed and scanned); the
// credentials file holds tokens (that is its job) but never a password.
//
// TestHostileServer runs dyorctl against servers that answer what a hostile
// or broken one might (escape sequences, echoed passwords and bearer
// tokens, claims that forge lines, endless and huge bodies, redirects) and
// checks that every command ends in time and prints none of it.
//
// The package has no code of its own: this file only names it.
package e2e
