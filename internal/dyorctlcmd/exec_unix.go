//go:build unix

package dyorctlcmd

import (
	"os"
	"syscall"
)

// execSignals are the signals dyorctl exec catches while its command runs,
// so that none of them ends dyorctl before the command.
var execSignals = []os.Signal{syscall.SIGTERM, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2, os.Interrupt, syscall.SIGQUIT}

// forwarded reports whether exec passes s on to its command. With a
// terminal on stdin, the terminal sends Ctrl-C (SIGINT) and Ctrl-\
// (SIGQUIT) to the command itself, as it runs in the same foreground
// process group, so they are not sent a second time.
func forwarded(s os.Signal, terminal bool) bool {
	return !terminal || (s != os.Interrupt && s != syscall.SIGQUIT)
}
