package mock

import (
	"fmt"
	"net/http"

	"github.com/dyor-exchange/dyorctl/api"
)

// The contract's error codes, under the names the mock has always exported;
// package api is where they are defined.
const (
	CodeInvalidJSON      = api.CodeInvalidJSON
	CodeInvalidField     = api.CodeInvalidField
	CodeNoToken          = api.CodeNoToken
	CodeBadToken         = api.CodeBadToken
	CodeTokenExpired     = api.CodeTokenExpired
	CodeSessionNotFound  = api.CodeSessionNotFound
	CodeWrongPassword    = api.CodeWrongPassword
	CodeAccountLocked    = api.CodeAccountLocked
	CodeNoRoute          = api.CodeNoRoute
	CodeAccountNotFound  = api.CodeAccountNotFound
	CodeNotFound         = api.CodeNotFound
	CodeMethodNotAllowed = api.CodeMethodNotAllowed
	CodeUsernameTaken    = api.CodeUsernameTaken
	CodeBodyTooLarge     = api.CodeBodyTooLarge
	CodeUnsupportedType  = api.CodeUnsupportedType
	CodeInternal         = api.CodeInternal
)

// Error is an answer of the API or the control plane that is not a success:
// the HTTP status, the application code and a message for people.
type Error struct {
	Status  int
	Code    api.Code
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("%s (%d)", e.Message, e.Code) }

func apiErr(code api.Code, format string, args ...any) *Error {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	return &Error{Status: code.Status(), Code: code, Message: msg}
}

var (
	errNoToken         = apiErr(CodeNoToken, "missing Authorization: Bearer token")
	errBadToken        = apiErr(CodeBadToken, "invalid token")
	errWrongTokenType  = apiErr(CodeBadToken, "wrong token type for this route")
	errTokenExpired    = apiErr(CodeTokenExpired, "token expired")
	errSessionNotFound = apiErr(CodeSessionNotFound, "session not found")
	errWrongPassword   = apiErr(CodeWrongPassword, "wrong password")
	errAccountLocked   = apiErr(CodeAccountLocked, "account locked after too many wrong passwords; try again later")
	errUsernameTaken   = apiErr(CodeUsernameTaken, "username already registered")
	errBodyTooLarge    = apiErr(CodeBodyTooLarge, "request body larger than %d KiB", api.MaxBodyBytes>>10)
	errEmptyBody       = apiErr(CodeInvalidJSON, "request body is empty; send a JSON object")
	errNoRoute         = apiErr(CodeNoRoute, "no such route")
)

func errAccountNotFound(username string) *Error {
	return apiErr(CodeAccountNotFound, "no account named %q", username)
}

// methodNotAllowed carries the Allow header of a 405 answer.
type methodNotAllowed struct {
	*Error
	allow string
}

func errMethodNotAllowed(method, allow string) methodNotAllowed {
	return methodNotAllowed{apiErr(CodeMethodNotAllowed, "method %s not allowed; use %s", method, allow), allow}
}

var _ http.Handler = (*Server)(nil)
