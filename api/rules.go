package api

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// The input rules of register and login.
const (
	MinUsernameRunes = 3
	MaxUsernameRunes = 64
	MinPasswordBytes = 8
	MaxPasswordBytes = 72 // bcrypt's limit: longer is rejected, never truncated

	// MaxBodyBytes is the largest request body a server reads; a larger
	// one is answered with CodeBodyTooLarge.
	MaxBodyBytes = 64 << 10
)

// A RuleError is an input that breaks a rule of the contract. Its message
// is the sentence the server answers with CodeInvalidField.
type RuleError struct {
	Field string // "username" or "password"
	Rule  string // what the value must be, e.g. "must be 8 to 72 bytes long"
}

func (e *RuleError) Error() string { return e.Field + " " + e.Rule }

// CheckUsername reports whether u is a valid username: 3 to 64 code points
// of valid UTF-8 with no whitespace, control or format characters (Unicode
// Z*, Cc and Cf: no bidi overrides, no zero-width spaces), so that no
// username can pass for another on a screen. U+FFFD is refused as invalid
// UTF-8: it is what a decoder puts in place of broken bytes.
func CheckUsername(u string) error {
	if !utf8.ValidString(u) {
		return &RuleError{"username", "must be valid UTF-8"}
	}
	if n := utf8.RuneCountInString(u); n < MinUsernameRunes || n > MaxUsernameRunes {
		return &RuleError{"username", fmt.Sprintf("must be %d to %d characters long", MinUsernameRunes, MaxUsernameRunes)}
	}
	for _, r := range u {
		switch {
		case r == utf8.RuneError:
			return &RuleError{"username", "must be valid UTF-8"}
		case unicode.IsSpace(r) || unicode.In(r, unicode.Z, unicode.Cc, unicode.Cf):
			return &RuleError{"username", "must not contain whitespace, control or format characters"}
		}
	}
	return nil
}

// CheckPassword reports whether p is a valid password: 8 to 72 bytes.
func CheckPassword(p string) error {
	if n := len(p); n < MinPasswordBytes || n > MaxPasswordBytes {
		return &RuleError{"password", fmt.Sprintf("must be %d to %d bytes long", MinPasswordBytes, MaxPasswordBytes)}
	}
	return nil
}

// CheckCredentials checks the username, then the password, as the server
// does for register and login.
func CheckCredentials(username, password string) error {
	if err := CheckUsername(username); err != nil {
		return err
	}
	return CheckPassword(password)
}
