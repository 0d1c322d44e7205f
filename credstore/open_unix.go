//go:build unix

package credstore

import "syscall"

// openNonblock makes opening a named pipe return at once instead of
// waiting for a writer, so that read can refuse it.
const openNonblock = syscall.O_NONBLOCK
