package mock

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"unicode"
	"unicode/utf8"
)

// MaxBodyBytes is the largest request body the server reads.
const MaxBodyBytes = 64 << 10

// Input rules shared by register, login and the control plane.
const (
	minUsernameRunes = 3
	maxUsernameRunes = 64
	minPasswordBytes = 8
	maxPasswordBytes = 72 // bcrypt's limit: longer is rejected, never truncated
)

// readJSONBody reads a request body of at most MaxBodyBytes that must be a
// JSON object, and returns its top-level members.
func readJSONBody(r *http.Request) (map[string]json.RawMessage, *Error) {
	if r.ContentLength > MaxBodyBytes {
		return nil, errBodyTooLarge
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		return nil, apiErr(CodeInvalidJSON, "could not read the request body")
	}
	if len(body) > MaxBodyBytes {
		return nil, errBodyTooLarge
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, errEmptyBody
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return nil, apiErr(CodeUnsupportedType, "Content-Type must be application/json")
		}
	}
	return decodeObject(body)
}

func decodeObject(body []byte) (map[string]json.RawMessage, *Error) {
	var obj map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&obj); err != nil || obj == nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) || (err == nil && obj == nil) {
			return nil, apiErr(CodeInvalidJSON, "request body must be a JSON object")
		}
		return nil, apiErr(CodeInvalidJSON, "request body is not valid JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, apiErr(CodeInvalidJSON, "request body is not valid JSON: data after the object")
	}
	return obj, nil
}

// stringField returns the string member name of obj.
func stringField(obj map[string]json.RawMessage, name string) (string, *Error) {
	raw, ok := obj[name]
	if !ok || string(raw) == "null" {
		return "", apiErr(CodeInvalidField, "%s is required", name)
	}
	if len(raw) == 0 || raw[0] != '"' {
		return "", apiErr(CodeInvalidField, "%s must be a string", name)
	}
	if !utf8.Valid(raw) {
		return "", apiErr(CodeInvalidField, "%s must be valid UTF-8", name)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", apiErr(CodeInvalidField, "%s must be a string", name)
	}
	return s, nil
}

// optionalStringField is stringField for a member that may be absent.
func optionalStringField(obj map[string]json.RawMessage, name string) (string, bool, *Error) {
	if raw, ok := obj[name]; !ok || string(raw) == "null" {
		return "", false, nil
	}
	s, err := stringField(obj, name)
	return s, err == nil, err
}

// credentials reads and checks {"username","password"}.
func credentials(obj map[string]json.RawMessage) (username, password string, e *Error) {
	if username, e = stringField(obj, "username"); e != nil {
		return "", "", e
	}
	if password, e = stringField(obj, "password"); e != nil {
		return "", "", e
	}
	if e = validateCredentials(username, password); e != nil {
		return "", "", e
	}
	return username, password, nil
}

func validateCredentials(username, password string) *Error {
	if e := validateUsername(username); e != nil {
		return e
	}
	return validatePassword(password)
}

func validateUsername(u string) *Error {
	if !utf8.ValidString(u) {
		return apiErr(CodeInvalidField, "username must be valid UTF-8")
	}
	n := utf8.RuneCountInString(u)
	if n < minUsernameRunes || n > maxUsernameRunes {
		return apiErr(CodeInvalidField, "username must be %d to %d characters long", minUsernameRunes, maxUsernameRunes)
	}
	for _, r := range u {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == utf8.RuneError {
			return apiErr(CodeInvalidField, "username must not contain whitespace or control characters")
		}
	}
	return nil
}

func validatePassword(p string) *Error {
	if len(p) < minPasswordBytes || len(p) > maxPasswordBytes {
		return apiErr(CodeInvalidField, "password must be %d to %d bytes long", minPasswordBytes, maxPasswordBytes)
	}
	return nil
}
