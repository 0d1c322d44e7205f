package mock

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"unicode/utf8"

	"github.com/dyor-exchange/dyorctl/api"
)

// MaxBodyBytes is the largest request body the server reads.
const MaxBodyBytes = api.MaxBodyBytes

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

// decodeObject parses a JSON object and returns its members. A name given
// twice is refused: parsers disagree on which one counts, and a request
// that means two things is not one to guess at.
func decodeObject(body []byte) (map[string]json.RawMessage, *Error) {
	if obj, e, ok := decodePlainObject(body); ok {
		return obj, e
	}
	return decodeAnyObject(body)
}

// decodeAnyObject is decodeObject for any body, through encoding/json.
func decodeAnyObject(body []byte) (map[string]json.RawMessage, *Error) {
	notJSON := apiErr(CodeInvalidJSON, "request body is not valid JSON")
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if err != nil {
		return nil, notJSON
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		if !json.Valid(body) {
			return nil, notJSON
		}
		return nil, apiErr(CodeInvalidJSON, "request body must be a JSON object")
	}
	obj := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, notJSON
		}
		name, _ := tok.(string)
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, notJSON
		}
		if _, dup := obj[name]; dup {
			return nil, apiErr(CodeInvalidJSON, "request body has %q twice", name)
		}
		obj[name] = value
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, notJSON
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
	if plainString(raw) {
		return string(raw[1 : len(raw)-1]), nil
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

// validateCredentials applies the contract's input rules (package api).
func validateCredentials(username, password string) *Error {
	if err := api.CheckCredentials(username, password); err != nil {
		return apiErr(CodeInvalidField, "%s", err.Error())
	}
	return nil
}

// decodePlainObject is decodeObject's fast path for the usual body of
// register and login: an object whose values are all strings of printable
// ASCII without escapes, such as {"username":"john@API","password":"…"}.
// It returns ok false for anything else, which the general parser then
// decides; for what it accepts, it answers as that parser does.
func decodePlainObject(body []byte) (obj map[string]json.RawMessage, e *Error, ok bool) {
	i := 0
	skip := func() {
		for i < len(body) && (body[i] == ' ' || body[i] == '\t' || body[i] == '\n' || body[i] == '\r') {
			i++
		}
	}
	str := func() ([]byte, bool) { // a quoted string, quotes included
		if i >= len(body) || body[i] != '"' {
			return nil, false
		}
		start := i
		for i++; i < len(body); i++ {
			switch c := body[i]; {
			case c == '"':
				i++
				return body[start:i], true
			case c < 0x20 || c > 0x7e || c == '\\':
				return nil, false
			}
		}
		return nil, false
	}
	skip()
	if i >= len(body) || body[i] != '{' {
		return nil, nil, false
	}
	i++
	obj = make(map[string]json.RawMessage, 2)
	for first := true; ; first = false {
		skip()
		if i < len(body) && body[i] == '}' && first {
			i++
			break
		}
		name, ok := str()
		if !ok {
			return nil, nil, false
		}
		skip()
		if i >= len(body) || body[i] != ':' {
			return nil, nil, false
		}
		i++
		skip()
		value, ok := str()
		if !ok {
			return nil, nil, false
		}
		key := string(name[1 : len(name)-1])
		if _, seen := obj[key]; seen && e == nil {
			e = apiErr(CodeInvalidJSON, "request body has %q twice", key)
		}
		obj[key] = json.RawMessage(value)
		skip()
		if i < len(body) && body[i] == ',' {
			i++
			continue
		}
		if i < len(body) && body[i] == '}' {
			i++
			break
		}
		return nil, nil, false
	}
	skip()
	if i != len(body) {
		return nil, nil, false
	}
	if e != nil {
		return nil, e, true
	}
	return obj, nil, true
}

// plainString reports whether raw is a JSON string of printable ASCII
// without escapes: its value is then the bytes between the quotes.
func plainString(raw []byte) bool {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return false
	}
	for _, c := range raw[1 : len(raw)-1] {
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
