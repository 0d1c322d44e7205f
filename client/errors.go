package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/dyor-exchange/dyorctl/api"
	"github.com/dyor-exchange/dyorctl/internal/safetext"
)

// Sentinel errors. Match them with errors.Is: an *APIError matches the one
// its code stands for, and the client wraps them in its own errors.
var (
	// ErrNotLoggedIn: the token store holds no tokens. No request was sent.
	ErrNotLoggedIn = errors.New("not logged in")
	// ErrAccountNotFound: no account with that username
	// (api.CodeAccountNotFound).
	ErrAccountNotFound = errors.New("no such account")
	// ErrWrongPassword: the password does not match (api.CodeWrongPassword).
	ErrWrongPassword = errors.New("wrong password")
	// ErrAccountLocked: the account is locked after repeated wrong
	// passwords (api.CodeAccountLocked).
	ErrAccountLocked = errors.New("account locked")
	// ErrUsernameTaken: the username is already registered
	// (api.CodeUsernameTaken).
	ErrUsernameTaken = errors.New("username already taken")
	// ErrInvalidInput: the server rejected the request's body (a code for
	// which api.Code.InvalidInput is true); the message says which rule was
	// broken.
	ErrInvalidInput = errors.New("invalid input")
	// ErrSessionInvalid: the server no longer accepts the session
	// (api.Code.SessionRejected), or the refresh token has expired by its claims. The
	// stored tokens have been removed: log in again.
	ErrSessionInvalid = errors.New("session expired or revoked")
)

// APIError is an answer of the server that is not a success: any non-2xx
// status, or a 2xx whose body is not the API's JSON envelope.
type APIError struct {
	Status  int      // HTTP status
	Code    api.Code // application code, e.g. api.CodeWrongPassword; 0 when the body was not the API's JSON
	Message string   // the server's message, or a short excerpt of a non-2xx body that was not the API's JSON (JWT-like parts blanked)
}

func (e *APIError) Error() string {
	if e.Code != 0 {
		msg := e.Message
		if msg == "" {
			msg = "server answered " + statusText(e.Status)
		}
		return fmt.Sprintf("%s (%d)", msg, e.Code)
	}
	if e.Status >= 200 && e.Status < 300 {
		// A success body may hold tokens: it is never shown (see excerpt).
		return fmt.Sprintf("server answered %s but not with the API's JSON", statusText(e.Status))
	}
	what := fmt.Sprintf("server answered %s (not the API's JSON)", statusText(e.Status))
	if e.Message == "" {
		return what + " with an empty body"
	}
	return fmt.Sprintf("%s: %q", what, e.Message)
}

// Is reports whether the error's code is one that target stands for.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrAccountNotFound:
		return e.Code == api.CodeAccountNotFound
	case ErrWrongPassword:
		return e.Code == api.CodeWrongPassword
	case ErrAccountLocked:
		return e.Code == api.CodeAccountLocked
	case ErrUsernameTaken:
		return e.Code == api.CodeUsernameTaken
	case ErrInvalidInput:
		return e.Code.InvalidInput()
	case ErrSessionInvalid:
		return e.sessionRejected()
	}
	return false
}

// sessionRejected reports whether the server said the token or its
// session is no longer good.
func (e *APIError) sessionRejected() bool {
	return e.Code.SessionRejected()
}

// isSessionRejected reports whether err is the server rejecting the session.
func isSessionRejected(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.sessionRejected()
}

func statusText(status int) string {
	if text := http.StatusText(status); text != "" {
		return fmt.Sprintf("%d %s", status, text)
	}
	return fmt.Sprint(status)
}

// envelope is the API's answer: {"ok":true,"result":{…}} or
// {"ok":false,"error":{"code":…,"message":…}}.
type envelope struct {
	OK     *bool           `json:"ok"`
	Result json.RawMessage `json:"result"`
	Error  *api.ErrorBody  `json:"error"`
}

// decodeAnswer turns a status and a body into the result (decoded into out
// when out is not nil) or an *APIError. secrets are what the request
// carried (its bearer token, its password): a server that echoes one in
// its message has it replaced by a marker.
func decodeAnswer(status int, body []byte, out any, secrets ...string) error {
	var env envelope
	jsonErr := json.Unmarshal(body, &env)
	success := status >= 200 && status < 300
	if jsonErr == nil && env.OK != nil && !*env.OK && env.Error != nil && env.Error.Code != 0 {
		return &APIError{Status: status, Code: env.Error.Code, Message: safetext.Clean(env.Error.Message, 200, secrets...)}
	}
	if !success || jsonErr != nil || env.OK == nil || !*env.OK {
		return &APIError{Status: status, Message: excerpt(status, body, secrets)}
	}
	if out == nil {
		return nil
	}
	if len(env.Result) == 0 || string(env.Result) == "null" {
		return &APIError{Status: status, Message: excerpt(status, body, secrets)}
	}
	if err := json.Unmarshal(env.Result, out); err != nil {
		return &APIError{Status: status, Message: excerpt(status, body, secrets)}
	}
	return nil
}

// excerpt is the part of a body that is not the API's JSON that an error
// may show. A 2xx body may be a token answer cut short, so none of it is
// shown; of others (a proxy's HTML page) the start, cleaned by safetext
// (JWT-shaped text and the request's secrets replaced by markers).
func excerpt(status int, body []byte, secrets []string) string {
	if status >= 200 && status < 300 {
		return ""
	}
	return safetext.Clean(string(body), 100, secrets...)
}

// requestSecrets are the secrets a request carries: its bearer token and
// the password of its body.
func requestSecrets(bearer string, in any) []string {
	var secrets []string
	if bearer != "" {
		secrets = append(secrets, bearer)
	}
	if c, ok := in.(api.Credentials); ok && c.Password != "" {
		secrets = append(secrets, c.Password)
	}
	return secrets
}

// AnswerError returns the *APIError that a non-2xx answer with this status
// and body stands for, as the client's own calls report it: the code and
// the server's message from the API's error envelope (made safe to print),
// or a short cleaned excerpt of a body that is not the API's JSON, with
// each of secrets (the request's token, say) blanked if the server echoed
// it. It returns nil for a 2xx status. For programs that call other routes
// of the server through HTTPClient.
func AnswerError(status int, body []byte, secrets ...string) *APIError {
	if status >= 200 && status < 300 {
		return nil
	}
	if ae, ok := decodeAnswer(status, body, nil, secrets...).(*APIError); ok {
		return ae
	}
	return &APIError{Status: status}
}
