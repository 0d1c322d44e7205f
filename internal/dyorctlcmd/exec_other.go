//go:build !unix

package dyorctlcmd

import "os"

// forwardedSignals are the signals exec passes on to its command: on this
// system only an interrupt, and only when no console delivers it to the
// command itself.
func forwardedSignals(terminal bool) []os.Signal {
	if terminal {
		return nil
	}
	return []os.Signal{os.Interrupt}
}
