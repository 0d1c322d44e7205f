//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package dyorctlcmd

import "golang.org/x/sys/unix"

// echoOff turns the terminal's echo off (keeping line editing) and returns
// how to turn it back on. The password prompt is printed only after this:
// a password typed the moment the prompt shows is never echoed.
func echoOff(fd int) (restore func(), err error) {
	old, err := unix.IoctlGetTermios(fd, ioctlGetTermios)
	if err != nil {
		return nil, err
	}
	quiet := *old
	quiet.Lflag &^= unix.ECHO
	quiet.Lflag |= unix.ICANON | unix.ISIG
	if err := unix.IoctlSetTermios(fd, ioctlSetTermios, &quiet); err != nil {
		return nil, err
	}
	return func() { _ = unix.IoctlSetTermios(fd, ioctlSetTermios, old) }, nil
}
