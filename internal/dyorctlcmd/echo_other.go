//go:build !(linux || darwin || dragonfly || freebsd || netbsd || openbsd)

package dyorctlcmd

// echoOff is a no-op where there is no termios (Windows): there
// term.ReadPassword turns the echo off as it starts reading.
func echoOff(int) (restore func(), err error) { return func() {}, nil }
