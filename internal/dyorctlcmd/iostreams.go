package dyorctlcmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"
)

// IOStreams is the world a command talks to: its standard streams, whether
// they are terminals, and how to read a password with echo off. Main gets
// it from SystemIO; tests build one over buffers.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	StdinTTY  bool // stdin is a terminal: passwords may be prompted for
	StdoutTTY bool // stdout is a terminal: the TUI may open, JSON is indented

	// ReadPassword shows prompt on ErrOut and reads one line from the
	// terminal with echo off. It is only called when StdinTTY is true and
	// returns ctx's error if ctx ends first (Ctrl-C).
	ReadPassword func(ctx context.Context, prompt string) (string, error)
}

// SystemIO returns the process's standard streams.
func SystemIO() *IOStreams {
	ios := &IOStreams{
		In:        os.Stdin,
		Out:       os.Stdout,
		ErrOut:    os.Stderr,
		StdinTTY:  term.IsTerminal(int(os.Stdin.Fd())),
		StdoutTTY: term.IsTerminal(int(os.Stdout.Fd())),
	}
	ios.ReadPassword = func(ctx context.Context, prompt string) (string, error) {
		return readTerminalPassword(ctx, int(os.Stdin.Fd()), os.Stderr, prompt)
	}
	return ios
}

// readTerminalPassword reads a line from the terminal fd with echo off. When
// ctx ends first (Ctrl-C is caught to cancel ctx, so term.ReadPassword
// would not return by itself), it puts the terminal back the way it was and
// returns ctx's error; the read is abandoned, which is fine as the process
// is about to exit.
func readTerminalPassword(ctx context.Context, fd int, errOut io.Writer, prompt string) (string, error) {
	state, err := term.GetState(fd)
	if err != nil {
		return "", fmt.Errorf("reading the password from the terminal: %w", err)
	}
	restoreEcho, err := echoOff(fd)
	if err != nil {
		return "", fmt.Errorf("reading the password from the terminal: %w", err)
	}
	defer restoreEcho()
	fmt.Fprint(errOut, prompt)
	type result struct {
		pw  []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		pw, err := term.ReadPassword(fd)
		done <- result{pw, err}
	}()
	select {
	case r := <-done:
		fmt.Fprintln(errOut) // the user's Enter was not echoed
		if r.err != nil {
			if errors.Is(r.err, io.EOF) {
				return "", usageErrorf("no password entered")
			}
			return "", fmt.Errorf("reading the password from the terminal: %w", r.err)
		}
		return string(r.pw), nil
	case <-ctx.Done():
		_ = term.Restore(fd, state)
		fmt.Fprintln(errOut)
		return "", ctx.Err()
	}
}
