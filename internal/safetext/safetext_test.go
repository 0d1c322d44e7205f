package safetext

import (
	"strings"
	"testing"
	"unicode"
)

func TestClean(t *testing.T) {
	t.Parallel()
	const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzaWQiOiJ4In0.c2lnbmF0dXJl"
	for _, tc := range []struct {
		name, in string
		max      int
		secrets  []string
		want     string
	}{
		{"plain text stays", "wrong password", 0, nil, "wrong password"},
		{"OSC title and screen clear", "sid\x1b]0;PWNED\a\x1b[2J\x1b[H-forged", 0, nil, "sid-forged"},
		{"OSC ended by ST", "a\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\b", 0, nil, "alinkb"},
		{"unterminated OSC runs to the end", "ok\x1b]0;title", 0, nil, "ok"},
		{"CSI with parameters", "\x1b[1;31mred\x1b[0m", 0, nil, "red"},
		{"C1 CSI", "a\u009b2Jb", 0, nil, "ab"},
		{"C1 OSC", "a\u009d0;t\u009cb", 0, nil, "ab"},
		{"two-byte escape", "a\x1bcb\x1b(Bc", 0, nil, "abc"},
		{"lone escape at the end", "a\x1b", 0, nil, "a"},
		{"carriage return cannot overwrite a line", "ok\rforged", 0, nil, "ok forged"},
		{"backspaces dropped", "abc\b\b\bxyz", 0, nil, "abcxyz"},
		{"bidi override and zero-width space", "ab\u202ecd\u200bef", 0, nil, "abcdef"},
		{"white space squeezed", "  a \n\t b  ", 0, nil, "a b"},
		{"invalid UTF-8", "a\xffb", 0, nil, "a\uFFFDb"},
		{"JWT replaced", "you sent Bearer " + jwt + " here", 0, nil, "you sent Bearer [token] here"},
		{"start of a JWT replaced", "token eyJhbGciOiJIUzI1", 0, nil, "token [token]"},
		{"password replaced", "bad password honeyBunnies", 0, []string{"honeyBunnies"}, "bad password [redacted]"},
		{"password split by an escape", "bad password honey\x1b[mBunnies", 0, []string{"honeyBunnies"}, "bad password [redacted]"},
		{"password holding an escape", "pw a\x1bbcdef!", 0, []string{"a\x1bbcdef!"}, "pw [redacted]"},
		{"empty and short secrets ignored", "a b c", 0, []string{"", "a"}, "a b c"},
		{"cut at max runes", "héllo wörld", 5, nil, "héllo…"},
		{"cut at a space", "hello world", 5, nil, "hello…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := Clean(tc.in, tc.max, tc.secrets...); got != tc.want {
				t.Errorf("Clean(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// FuzzClean checks the promises for any input: nothing that a terminal
// acts on survives, no JWT header, no secret, and cleaning is stable.
func FuzzClean(f *testing.F) {
	f.Add("sid\x1b]0;PWNED\a\x1b[2J", "honeyBunnies")
	f.Add("eyJhbGciOi.eyJ.x honeyBunnies", "honeyBunnies")
	f.Add("ab\u202ecd\u009b1m", "abcd")
	f.Fuzz(func(t *testing.T, s, secret string) {
		got := Clean(s, 0, secret)
		for _, r := range got {
			if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Bidi_Control, r) {
				t.Fatalf("Clean(%q) = %q keeps %U", s, got, r)
			}
		}
		if strings.Contains(got, "eyJ") {
			t.Fatalf("Clean(%q) = %q keeps a JWT header", s, got)
		}
		if clean := Clean(secret, 0); len(secret) >= 4 && clean == secret && !strings.Contains(SecretMarker+TokenMarker, secret) && strings.Contains(got, secret) {
			t.Fatalf("Clean(%q) = %q keeps the secret %q", s, got, secret)
		}
		if again := Clean(got, 0); again != got {
			t.Fatalf("Clean is not stable: %q → %q → %q", s, got, again)
		}
	})
}

func TestVisible(t *testing.T) {
	for in, want := range map[string]string{
		"{\n\t\"a\": 1\n}":         "{\n\t\"a\": 1\n}",
		"bell\aand\x1b[2J":         "bell\uFFFDand\uFFFD[2J",
		"ab\u202ecd":               "ab\uFFFDcd",
		"bad\xffutf8":              "bad\uFFFDutf8",
		"token eyJhbGci.eyJz.c2ln": "token eyJhbGci.eyJz.c2ln",
	} {
		if got := Visible(in); got != want {
			t.Errorf("Visible(%q) = %q, want %q", in, got, want)
		}
	}
}
