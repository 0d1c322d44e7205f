package mock

import (
	"fmt"
	"net/http"
)

// Application error codes of the contract (api/openapi.yaml). The HTTP
// status of each is code / 1000.
const (
	CodeInvalidJSON      = 400001
	CodeInvalidField     = 400002
	CodeNoToken          = 401001
	CodeBadToken         = 401002
	CodeTokenExpired     = 401003
	CodeSessionNotFound  = 401004
	CodeWrongPassword    = 401005
	CodeAccountLocked    = 403002
	CodeNoRoute          = 404000
	CodeAccountNotFound  = 404001
	CodeNotFound         = 404002
	CodeMethodNotAllowed = 405000
	CodeUsernameTaken    = 409001
	CodeBodyTooLarge     = 413001
	CodeUnsupportedType  = 415001
	CodeInternal         = 500000
)

// Error is an answer of the API or the control plane that is not a success:
// the HTTP status, the application code and a message for people.
type Error struct {
	Status  int
	Code    int
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("%s (%d)", e.Message, e.Code) }

func apiErr(code int, format string, args ...any) *Error {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	return &Error{Status: code / 1000, Code: code, Message: msg}
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
	errBodyTooLarge    = apiErr(CodeBodyTooLarge, "request body larger than 64 KiB")
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
