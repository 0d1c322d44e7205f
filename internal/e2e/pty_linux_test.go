//go:build linux

package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"github.com/dyor-exchange/dyorctl/internal/testutil"
)

// A pseudo-terminal from the standard library alone (the module has no pty
// package, and this is not worth a dependency): /dev/ptmx gives the master,
// /dev/pts/N the terminal the child gets as its stdin, stdout, stderr and
// controlling terminal. What the child writes and what the terminal echoes
// comes out of the master, as a user would see it on screen.

// ptyProcess is a command running on a new pseudo-terminal.
type ptyProcess struct {
	cmd    *exec.Cmd
	master *os.File
	out    testutil.SyncBuffer // everything read from the master
	read   chan struct{}       // closed when the master reads EOF or EIO (the child is gone)
}

func ioctl(fd, req, arg uintptr) error {
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, fd, req, arg); errno != 0 {
		return errno
	}
	return nil
}

// startOnPTY starts cmd on a new pseudo-terminal.
func startOnPTY(cmd *exec.Cmd) (*ptyProcess, error) {
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	fd := master.Fd() // blocking mode: read by a goroutine of its own
	var unlock int32
	if err := ioctl(fd, syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); err != nil {
		master.Close()
		return nil, fmt.Errorf("unlocking the pty: %w", err)
	}
	var n uint32
	if err := ioctl(fd, syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); err != nil {
		master.Close()
		return nil, fmt.Errorf("naming the pty: %w", err)
	}
	tty, err := os.OpenFile("/dev/pts/"+strconv.FormatUint(uint64(n), 10), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		return nil, err
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	err = cmd.Start()
	tty.Close() // the child has it; the master reads EIO once the child closes it
	if err != nil {
		master.Close()
		return nil, err
	}
	p := &ptyProcess{cmd: cmd, master: master, read: make(chan struct{})}
	go func() {
		defer close(p.read)
		buf := make([]byte, 4096)
		var screen []byte
		answered := 0
		for {
			n, err := master.Read(buf)
			p.out.Write(buf[:n])
			screen = append(screen, buf[:n]...)
			answered = answerQueries(master, screen, answered)
			if err != nil {
				return
			}
		}
	}()
	return p, nil
}

// The terminal queries a program may send, and a dark xterm's answers.
// bubbletea v1 asks, from its package's init, for the background colour
// (OSC 11) followed by the cursor position (DSR), and waits up to 5 s for
// the answers: every dyorctl command does, the TUI linked in. A real
// terminal answers at once; so does this one, or each command would take
// 5 s here.
var terminalQueries = []struct{ query, answer string }{
	{"\x1b]11;?\x1b\\", "\x1b]11;rgb:0000/0000/0000\x1b\\"},
	{"\x1b[6n", "\x1b[1;1R"},
}

// answerQueries answers, in order, the queries in screen[from:] and
// returns how far it has looked.
func answerQueries(master *os.File, screen []byte, from int) int {
	for {
		next, which := -1, -1
		for i, q := range terminalQueries {
			if at := bytes.Index(screen[from:], []byte(q.query)); at >= 0 && (next < 0 || at < next) {
				next, which = at, i
			}
		}
		if next < 0 {
			return from
		}
		_, _ = master.Write([]byte(terminalQueries[which].answer))
		from += next + len(terminalQueries[which].query)
	}
}

// echoOff reports whether the terminal's echo is off. On Linux, TCGETS on
// the master reads the terminal's settings (as pexpect's waitnoecho does).
func (p *ptyProcess) echoOff() bool {
	var tio syscall.Termios
	if err := ioctl(p.master.Fd(), syscall.TCGETS, uintptr(unsafe.Pointer(&tio))); err != nil {
		return false
	}
	return tio.Lflag&syscall.ECHO == 0
}

// answer waits until the screen shows prompt for the n-th time (counting
// from 1) and the terminal's echo is off, then types text and Enter, as a
// person does who waits for the prompt. Waiting for the echo to be off
// matters: typed before that, the terminal itself would echo the password.
func (p *ptyProcess) answer(prompt string, n int, text string, deadline time.Time) error {
	for strings.Count(p.out.String(), prompt) < n || !p.echoOff() {
		select {
		case <-p.read:
			return fmt.Errorf("the program ended before prompt %d %q; screen %q", n, prompt, p.out.String())
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no prompt %d %q with echo off; screen %q", n, prompt, p.out.String())
		}
		time.Sleep(2 * time.Millisecond) // polling, with a deadline
	}
	_, err := p.master.Write([]byte(text + "\n"))
	return err
}

// wait waits for the child to end (killing it at the deadline) and for the
// master to be read to the end, and returns the exit code.
func (p *ptyProcess) wait(deadline time.Time) (int, error) {
	exited := make(chan error, 1)
	go func() { exited <- p.cmd.Wait() }()
	var err error
	select {
	case err = <-exited:
	case <-time.After(time.Until(deadline)):
		_ = p.cmd.Process.Kill()
		<-exited
		p.master.Close()
		return -1, fmt.Errorf("hung (killed); screen %q", p.out.String())
	}
	select {
	case <-p.read:
	case <-time.After(5 * time.Second):
	}
	p.master.Close()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return exitErr.ExitCode(), nil
	}
	return 0, err
}

// ptyAnswer is a prompt to wait for and what to type at it.
type ptyAnswer struct {
	prompt string
	text   string
}

// runOnPTY runs cmd on a pseudo-terminal, answering its prompts in order,
// and returns the exit code and the screen.
func runOnPTY(cmd *exec.Cmd, answers []ptyAnswer) (int, string, error) {
	deadline := time.Now().Add(30 * time.Second)
	p, err := startOnPTY(cmd)
	if err != nil {
		return -1, "", err
	}
	seen := map[string]int{}
	for _, a := range answers {
		seen[a.prompt]++
		if err := p.answer(a.prompt, seen[a.prompt], a.text, deadline); err != nil {
			_ = p.cmd.Process.Kill()
			_, _ = p.wait(deadline)
			return -1, p.out.String(), err
		}
	}
	code, err := p.wait(deadline)
	return code, p.out.String(), err
}
