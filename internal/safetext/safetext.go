// Package safetext makes text that came from a server safe to show: on a
// terminal, in JSON output, in a log. It is the one sanitiser of the
// module; the SDK's errors, dyorctl's output and the TUI go through it.
//
// A server may answer anything. Left as it came, an error message or a
// claim can move the cursor, retitle the window or clear the screen (escape
// sequences), reorder what is shown (bidirectional overrides), hide
// characters (format characters), or echo a secret back (the bearer token
// or the password of the request it answers). Clean removes the first
// three and replaces the last with a marker.
package safetext

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Markers put where a secret was.
const (
	// TokenMarker replaces text shaped like a JWT (or the start of one).
	TokenMarker = "[token]"
	// SecretMarker replaces a secret the caller named, such as the
	// password just sent.
	SecretMarker = "[redacted]"
)

// jwtLike matches a JWT or the start of one: a base64url JSON header
// ("eyJ" is the encoding of `{"`) and the parts after it.
var jwtLike = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*(\.[A-Za-z0-9_-]*){0,2}`)

// Clean returns s fit to print: invalid UTF-8 replaced by U+FFFD; escape
// sequences (CSI, OSC, DCS and the other string controls, and two- and
// three-byte escapes) removed whole; other control characters, format
// characters (Unicode category Cf, which holds the bidirectional
// overrides and the zero-width characters) removed; each run of white
// space made one space and the ends trimmed; every secret replaced by
// SecretMarker and JWT-shaped text by TokenMarker; at most max runes (0:
// no limit), an ellipsis marking a cut. Secrets shorter than 4 bytes are
// not looked for, since they would match ordinary words.
func Clean(s string, max int, secrets ...string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	// A secret is replaced before and after stripping: before, so that
	// stripping cannot break it into pieces that are then missed; after,
	// so that one split by escape sequences is found once they are gone.
	s = redact(s, secrets)
	s = strip(s)
	s = redact(s, secrets)
	s = jwtLike.ReplaceAllString(s, TokenMarker)
	return squeeze(s, max)
}

// String is Clean without a length limit or secrets.
func String(s string) string { return Clean(s, 0) }

func redact(s string, secrets []string) string {
	for _, sec := range secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, SecretMarker)
		}
	}
	return s
}

// strip removes escape sequences, control characters other than white
// space, and format characters; white space becomes a plain space.
func strip(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == 0x1b:
			i += escapeLen(s[i:])
			continue
		case r == 0x9b: // C1 CSI
			i += size + csiBodyLen(s[i+size:])
			continue
		case r == 0x90 || r == 0x9d || r == 0x98 || r == 0x9e || r == 0x9f: // C1 DCS, OSC, SOS, PM, APC
			i += size + stringBodyLen(s[i+size:])
			continue
		case unicode.IsSpace(r):
			b.WriteByte(' ')
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r), unicode.Is(unicode.Bidi_Control, r):
			// dropped
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// escapeLen is the length of the escape sequence at the start of s, which
// starts with ESC.
func escapeLen(s string) int {
	if len(s) < 2 {
		return len(s)
	}
	switch s[1] {
	case '[':
		return 2 + csiBodyLen(s[2:])
	case ']', 'P', 'X', '^', '_':
		return 2 + stringBodyLen(s[2:])
	}
	// ESC, intermediate bytes (0x20–0x2F), one final byte (0x30–0x7E).
	n := 1
	for n < len(s) && s[n] >= 0x20 && s[n] <= 0x2f {
		n++
	}
	if n < len(s) && s[n] >= 0x30 && s[n] <= 0x7e {
		n++
	}
	return n
}

// csiBodyLen is the length of a control sequence's parameters,
// intermediates and final byte at the start of s.
func csiBodyLen(s string) int {
	n := 0
	for n < len(s) && s[n] >= 0x20 && s[n] <= 0x3f {
		n++
	}
	if n < len(s) && s[n] >= 0x40 && s[n] <= 0x7e {
		n++
	}
	return n
}

// stringBodyLen is the length of a control string (an OSC's title, a DCS)
// up to and including its terminator: BEL, ESC \ or the C1 ST. An
// unterminated string runs to the end of s.
func stringBodyLen(s string) int {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == 0x07 || r == 0x9c:
			return i + size
		case r == 0x1b:
			if i+1 < len(s) && s[i+1] == '\\' {
				return i + 2
			}
			return i // an escape ends the string and starts its own sequence
		}
		i += size
	}
	return len(s)
}

// squeeze makes runs of spaces one, trims the ends and cuts at max runes.
func squeeze(s string, max int) string {
	var b strings.Builder
	n := 0
	pendingSpace := false
	for _, r := range s {
		if r == ' ' {
			pendingSpace = n > 0
			continue
		}
		if pendingSpace {
			if max > 0 && n >= max {
				b.WriteString("…")
				return b.String()
			}
			b.WriteByte(' ')
			n++
			pendingSpace = false
		}
		if max > 0 && n >= max {
			b.WriteString("…")
			return b.String()
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// Visible is for a text shown whole, line breaks and all, where Clean would
// change too much: an answer body that "dyorctl api" prints on a terminal.
// It replaces only what a terminal would act on instead of showing —
// control characters other than newline and tab, bidirectional controls,
// invalid UTF-8 — with U+FFFD, and leaves the rest (tokens too: the body is
// the user's data) as it came.
func Visible(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return '\uFFFD'
		}
		return r
	}, s)
}
