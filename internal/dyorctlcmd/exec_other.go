//go:build !unix

package dyorctlcmd

import "os"

// execSignals are the signals dyorctl exec catches while its command runs.
var execSignals = []os.Signal{os.Interrupt}

// forwarded reports whether exec passes s on to its command: never where
// the console delivers an interrupt to the command itself.
func forwarded(s os.Signal, terminal bool) bool { return !terminal }
