package dyorctlcmd

import (
	"context"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The API's input rules (DESIGN.md §1), checked before anything is sent so
// that a mistake costs no request and reads as a usage error.
const (
	minUsernameRunes = 3
	maxUsernameRunes = 64
	minPasswordBytes = 8
	maxPasswordBytes = 72 // bcrypt's limit: longer is rejected, never truncated

	// maxStdinPassword caps what --password-stdin reads: far above the
	// rule, so that a longer input is reported, not cut.
	maxStdinPassword = 4096
)

func checkUsername(u string) error {
	if u == "" {
		return usageErrorf("missing the username: pass -u USERNAME")
	}
	if !utf8.ValidString(u) {
		return usageErrorf("the username must be valid UTF-8")
	}
	if n := utf8.RuneCountInString(u); n < minUsernameRunes || n > maxUsernameRunes {
		return usageErrorf("the username must be %d to %d characters long (%q has %d)", minUsernameRunes, maxUsernameRunes, u, n)
	}
	for _, r := range u {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == utf8.RuneError {
			return usageErrorf("the username %q must not contain spaces or control characters", u)
		}
	}
	return nil
}

func checkPassword(p string) error {
	if n := len(p); n < minPasswordBytes || n > maxPasswordBytes {
		return usageErrorf("the password must be %d to %d bytes long (it has %d)", minPasswordBytes, maxPasswordBytes, n)
	}
	return nil
}

// passwordSource says where a command's password comes from.
type passwordSource struct {
	ios       *IOStreams
	getenv    func(string) string
	fromStdin bool   // --password-stdin
	command   string // for the hint, e.g. "login -u john@API"
}

// read returns the password: from stdin with --password-stdin, else from
// DYOR_PASSWORD, else prompted on the terminal (twice when confirm is set).
// Without a terminal and without a source it fails at once with a hint: it
// never waits for input nobody will type.
func (s passwordSource) read(ctx context.Context, confirm bool) (string, error) {
	var pw string
	switch {
	case s.fromStdin:
		data, err := io.ReadAll(io.LimitReader(s.ios.In, maxStdinPassword+1))
		if err != nil {
			return "", fmt.Errorf("reading the password from stdin: %w", err)
		}
		if len(data) > maxStdinPassword {
			return "", usageErrorf("the password on stdin is longer than %d bytes", maxPasswordBytes)
		}
		pw = trimNewline(string(data))
		if pw == "" {
			return "", usageErrorf("--password-stdin read an empty password")
		}
	case s.getenv("DYOR_PASSWORD") != "":
		pw = s.getenv("DYOR_PASSWORD")
	case s.ios.StdinTTY && s.ios.ReadPassword != nil:
		var err error
		if pw, err = s.ios.ReadPassword(ctx, "Password: "); err != nil {
			return "", err
		}
		if err := checkPassword(pw); err != nil {
			return "", err
		}
		if confirm {
			again, err := s.ios.ReadPassword(ctx, "Confirm password: ")
			if err != nil {
				return "", err
			}
			if again != pw {
				return "", usageErrorf("the passwords do not match")
			}
		}
	default:
		return "", usageErrorf("no password: stdin is not a terminal; pipe it with --password-stdin (printf '%%s\\n' \"$PASSWORD\" | dyorctl %s --password-stdin) or set DYOR_PASSWORD", s.command)
	}
	if err := checkPassword(pw); err != nil {
		return "", err
	}
	return pw, nil
}

// trimNewline removes one trailing "\n" or "\r\n": what echo and printf
// '%s\n' add, and nothing more (a password may end in spaces).
func trimNewline(s string) string {
	if strings.HasSuffix(s, "\r\n") {
		return s[:len(s)-2]
	}
	return strings.TrimSuffix(s, "\n")
}
