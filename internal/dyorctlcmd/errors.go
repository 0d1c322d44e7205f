package dyorctlcmd

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/dyor-exchange/dyorctl/api"
	"github.com/dyor-exchange/dyorctl/client"
	"github.com/dyor-exchange/dyorctl/credstore"
)

// Exit codes (4 as in gh), as the README and the man pages list them.
const (
	exitOK          = 0
	exitError       = 1 // any other failure
	exitUsage       = 2 // bad command line, missing input, or cancelled
	exitAuth        = 4 // no stored session, or the server no longer accepts it
	exitRejected    = 5 // unknown account, wrong password, locked, username taken
	exitUnreachable = 6 // server unreachable, timed out, or 5xx
)

// ExitError is an error in its final form: the sentence for the user, the
// exit code, and the API's code when the server answered with one.
type ExitError struct {
	Code    int
	Message string
	APICode api.Code // 0 when there was no answer from the server

	// Reported means the command has already printed its JSON object (status
	// exiting 4 prints the status), so Main must not print the error object.
	Reported bool
}

func (e *ExitError) Error() string { return e.Message }

func exitErrorf(code int, format string, args ...any) *ExitError {
	return &ExitError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// usageError is a mistake on the command line or in the input (exit 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// accountError says which account an SDK error is about, so that its
// sentence can name the account and the command to run.
type accountError struct {
	username string
	err      error
}

func (e *accountError) Error() string { return e.err.Error() }
func (e *accountError) Unwrap() error { return e.err }

func forAccount(username string, err error) error {
	if err == nil {
		return nil
	}
	return &accountError{username, err}
}

// noteError adds a second clause to the sentence of err (logout: what
// happened to the stored tokens when the server call failed).
type noteError struct {
	note string
	err  error
}

func (e *noteError) Error() string { return e.err.Error() + "; " + e.note }
func (e *noteError) Unwrap() error { return e.err }

// errContext is what classify needs to know about the command that failed.
type errContext struct {
	server  string        // the server the command talked to ("" if none yet)
	timeout time.Duration // --timeout
}

// classify turns any error a command returns into the sentence, exit code
// and API code to report. It is the one place where the SDK's typed errors
// become exit codes.
func classify(err error, ec errContext) *ExitError {
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee
	}
	var note *noteError
	if errors.As(err, &note) {
		e := classify(note.err, ec)
		return &ExitError{Code: e.Code, Message: e.Message + "; " + note.note, APICode: e.APICode}
	}
	var ue *usageError
	if errors.As(err, &ue) {
		return &ExitError{Code: exitUsage, Message: ue.msg}
	}

	username := "USERNAME"
	var ae *accountError
	if errors.As(err, &ae) && ae.username != "" {
		username = ae.username
	}
	server := ec.server
	if server == "" {
		server = "the server"
	}

	var apiErr *client.APIError
	if errors.As(err, &apiErr) {
		return classifyAPIError(apiErr, server, username)
	}

	switch {
	case errors.Is(err, context.Canceled):
		return exitErrorf(exitUsage, "cancelled")
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return exitErrorf(exitUnreachable, "request to %s timed out after %s", server, shortDuration(ec.timeout))
	case errors.Is(err, client.ErrSessionInvalid):
		return exitErrorf(exitAuth, "session expired: run \"dyorctl login -u %s\"", username)
	case errors.Is(err, client.ErrNotLoggedIn):
		return exitErrorf(exitAuth, "not logged in to %s: run \"dyorctl login -u %s\"", server, username)
	case errors.Is(err, credstore.ErrCorrupt):
		return exitErrorf(exitError, "%s", oneLine(err.Error()))
	case errors.Is(err, credstore.ErrUnwritable):
		// Found out before anything was sent (the store prepares its write
		// first), so the session is as good as it was.
		return exitErrorf(exitError, "%s; nothing was sent to the server and the stored tokens still work: make room or make the directory writable, then try again", oneLine(err.Error()))
	}
	if cause, ok := networkCause(err); ok {
		return exitErrorf(exitUnreachable, "cannot reach %s: %s", server, cause)
	}
	return exitErrorf(exitError, "%s", oneLine(err.Error()))
}

func classifyAPIError(e *client.APIError, server, username string) *ExitError {
	out := func(code int, format string, args ...any) *ExitError {
		return &ExitError{Code: code, Message: fmt.Sprintf(format, args...), APICode: e.Code}
	}
	switch {
	case e.Code == api.CodeWrongPassword:
		return out(exitRejected, "wrong password for %s at %s", username, server)
	case e.Code == api.CodeAccountNotFound:
		return out(exitRejected, "no account named %s at %s", username, server)
	case e.Code == api.CodeAccountLocked:
		return out(exitRejected, "account %s is locked: too many wrong passwords, try again later", username)
	case e.Code == api.CodeUsernameTaken:
		return out(exitRejected, "username %s is already taken at %s", username, server)
	case e.Code.SessionRejected():
		return out(exitAuth, "session expired: run \"dyorctl login -u %s\"", username)
	case e.Status >= 500:
		return out(exitUnreachable, "server error: %s", statusText(e.Status))
	case e.Code != 0 && e.Status >= 400:
		return out(exitError, "the server rejected the request: %s", sentence(e.Message))
	case e.Status >= 200 && e.Status < 300:
		return out(exitError, "%s did not answer with the account API's JSON: check --server", server)
	default:
		return out(exitError, "%s answered %s, not the account API: check --server", server, statusText(e.Status))
	}
}

// isTimeout reports a network timeout (http.Client.Timeout, a dial
// timeout) that is not our context's deadline.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// networkCause returns a short cause of a network failure, such as
// "connection refused", and whether err is one.
func networkCause(err error) (string, bool) {
	var dnsErr *net.DNSError
	var unknownCA x509.UnknownAuthorityError
	switch {
	case errors.As(err, &unknownCA):
		return "its certificate is signed by an unknown authority (for a private CA, give its certificate with --ca-cert or DYOR_CA_CERT)", true
	case errors.As(err, &dnsErr):
		if dnsErr.IsNotFound {
			return "no such host " + dnsErr.Name, true
		}
		return "cannot resolve " + dnsErr.Name, true
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused", true
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset", true
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "no route to host", true
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the connection closed before a full answer", true
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return innermost(opErr), true
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return innermost(urlErr.Err), true
	}
	return "", false
}

// innermost is the message of the deepest error in err's chain.
func innermost(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return oneLine(err.Error())
		}
		err = next
	}
}

func statusText(status int) string {
	if text := http.StatusText(status); text != "" {
		return fmt.Sprintf("%d %s", status, text)
	}
	return fmt.Sprint(status)
}

// sentence trims a server message so that it reads inside ours.
func sentence(msg string) string {
	msg = strings.TrimRight(oneLine(msg), ". ")
	if msg == "" {
		return "no reason given"
	}
	return msg
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
