package dyorctlcmd

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/dyor-exchange/dyorctl/api"
)

// maxStdinPassword caps what --password-stdin reads: far above the rule,
// so that a longer input is reported, not cut.
const maxStdinPassword = 4096

// checkUsername applies the contract's username rule (package api) before
// anything is sent, so that a mistake costs no request and reads as a
// usage error.
func checkUsername(u string) error {
	if u == "" {
		return usageErrorf("missing the username: pass -u USERNAME")
	}
	if err := api.CheckUsername(u); err != nil {
		return usageErrorf("the %v (%+q)", err, u)
	}
	return nil
}

// checkPassword applies the contract's password rule.
func checkPassword(p string) error {
	if err := api.CheckPassword(p); err != nil {
		return usageErrorf("the %v (it has %d)", err, len(p))
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
			return "", usageErrorf("the password on stdin is longer than %d bytes", api.MaxPasswordBytes)
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
