// Command dyormock serves the DYOR account API from memory, for tests and CI
// jobs in any language. See docs/ci.md.
//
// The commands live in internal/dyormockcmd, so that tools such as the man
// page generator (internal/cmd/gendocs) can import the command tree.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/dyor-exchange/dyorctl/internal/dyormockcmd"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := dyormockcmd.Run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}
