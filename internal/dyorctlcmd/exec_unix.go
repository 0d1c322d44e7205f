//go:build unix

package dyorctlcmd

import (
	"os"
	"syscall"
)

// forwardedSignals are the signals exec passes on to its command. With a
// terminal on stdin, the terminal sends Ctrl-C (SIGINT) and Ctrl-\
// (SIGQUIT) to the command itself, as it runs in the same foreground
// process group, so they are not sent a second time.
func forwardedSignals(terminal bool) []os.Signal {
	sigs := []os.Signal{syscall.SIGTERM, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2}
	if !terminal {
		sigs = append(sigs, os.Interrupt, syscall.SIGQUIT)
	}
	return sigs
}
