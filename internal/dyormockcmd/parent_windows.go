//go:build windows

package dyormockcmd

import (
	"context"
	"os"
	"syscall"
)

// watchParent returns true once the parent process has died, false when
// ctx ends first: it waits on a handle of the parent process.
func watchParent(ctx context.Context) bool {
	h, err := syscall.OpenProcess(syscall.SYNCHRONIZE, false, uint32(os.Getppid()))
	if err != nil {
		return true // the parent is gone already
	}
	died := make(chan struct{})
	go func() {
		_, _ = syscall.WaitForSingleObject(h, syscall.INFINITE)
		close(died)
	}()
	select {
	case <-ctx.Done():
		// The waiting goroutine stays blocked until the process exits,
		// which is soon: ctx ends only at shutdown.
		return false
	case <-died:
		syscall.CloseHandle(h)
		return true
	}
}
