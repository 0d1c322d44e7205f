//go:build !unix && !windows

package dyormockcmd

import "context"

// watchParent cannot tell a parent's death here (js, wasip1, plan9): it
// waits for ctx; --exit-on-stdin-close works everywhere.
func watchParent(ctx context.Context) bool {
	<-ctx.Done()
	return false
}
