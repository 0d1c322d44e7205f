//go:build unix

package dyormockcmd

import (
	"context"
	"os"
	"time"
)

// parentPollInterval bounds how long dyormock outlives its parent.
const parentPollInterval = 100 * time.Millisecond

// parentAtStart is read when the program starts, before flags are parsed
// and the server set up, so that a parent that dies meanwhile is noticed.
var parentAtStart = os.Getppid()

// watchParent returns true once the parent process has died, false when
// ctx ends first. A dead parent's children are handed to init or a
// subreaper, so the parent process id changes: that is portable across
// Unix systems, unlike Linux's PR_SET_PDEATHSIG, which fires when the
// parent's thread that started dyormock exits (a Python test starting it
// from a worker thread would lose it early).
func watchParent(ctx context.Context) bool {
	parent := parentAtStart
	if os.Getppid() != parent {
		return true
	}
	t := time.NewTicker(parentPollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			if os.Getppid() != parent {
				return true
			}
		}
	}
}
