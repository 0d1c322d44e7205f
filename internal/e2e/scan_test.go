package e2e

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// The leak scanner. Every secret of a flow (each password typed or piped,
// each token the servers issued) goes into a ledger, and so does every piece
// of output (each stdout, stderr, terminal, log, journal, file and frame,
// labelled with the command and the channel it came from). At the end, the
// ledger looks for every secret in every capture.
//
// A secret counts as leaked when any 16-character piece of it shows up, not
// only all of it: half a refresh token is half a credential, and a log line
// that "shortens" a token to its first 20 characters still hands out enough
// to recognise and correlate it. Secrets shorter than 16 characters (a
// too-short password) are looked for whole.

// window is the length of the pieces of a secret looked for.
const window = 16

// jwtHeader is the first part of every token the mock issues: the base64url
// of {"alg":"HS256","typ":"JWT"}. It is the same for every HS256 JWT in the
// world, so it is public, not secret: pieces that fall entirely inside it are
// not looked for (they would match any text that merely mentions an HS256
// JWT, e.g. documentation), and neither are those made of its end and the
// dot after it. A piece that reaches into the payload is looked for like
// every other.
const jwtHeader = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"

// secret is a password or a token.
type secret struct {
	label string // what it is, e.g. "password of alice" or "refresh token #3 (sid 1f2e…)"
	value string
	token bool
}

// capture is one piece of output of one command.
type capture struct {
	source  string // the command or component, e.g. "dyorctl #12 [login alice, wrong password] -v login -u alice --password-stdin"
	channel string // stdout, stderr, pty, credentials.json, log, journal, frame 7, …
	text    string
	// tokenStore marks where tokens are stored by design (the credentials
	// file): tokens are allowed there, passwords are not.
	tokenStore bool
}

// ledger collects the secrets and the captures of a flow. It is safe for
// concurrent use (the TUI's store records tokens from the program's
// goroutines).
type ledger struct {
	mu       sync.Mutex
	secrets  []secret
	known    map[string]bool
	captures []capture
	tokens   int
}

func newLedger() *ledger { return &ledger{known: map[string]bool{}} }

// password records a password.
func (l *ledger) password(label, value string) {
	l.add(secret{label: "password " + label, value: value})
}

// token records a token, once however often it is seen; label says where it
// was first seen.
func (l *ledger) token(label, value string) {
	if value == "" {
		return
	}
	l.add(secret{label: label, value: value, token: true})
}

// other records a secret that is neither a password nor a token of the
// API, e.g. the mock's signing secret.
func (l *ledger) other(label, value string) {
	l.add(secret{label: label, value: value})
}

func (l *ledger) add(s secret) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.known[s.value] {
		return
	}
	l.known[s.value] = true
	if s.token {
		l.tokens++
		s.label = fmt.Sprintf("%s #%d%s", s.label, l.tokens, sidNote(s.value))
	}
	l.secrets = append(l.secrets, s)
}

// sidNote is " (sid 1f2e…)" for a token whose payload names a session.
func sidNote(token string) string {
	if sid := tokenSID(token); sid != "" {
		return fmt.Sprintf(" (sid %.8s…)", sid)
	}
	return ""
}

// tokenSID reads the "sid" claim of a JWT, without checking anything.
func tokenSID(token string) string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var c struct {
		Sid string `json:"sid"`
	}
	if json.Unmarshal(payload, &c) != nil {
		return ""
	}
	return c.Sid
}

// record adds a capture.
func (l *ledger) record(c capture) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.captures = append(l.captures, c)
}

// finding is a secret found in a capture.
type finding struct {
	capture *capture
	secret  *secret
	piece   int // offset in the secret of the first piece found (-1: the whole secret)
	at      int // offset in the capture's text
	shared  int // >1 when the piece belongs to that many secrets, none identified
}

// String says which channel of which command leaked which secret, showing
// only the first 4 characters of the secret.
func (f finding) String() string {
	what := "the whole secret"
	if f.piece >= 0 {
		what = fmt.Sprintf("its %d characters from offset %d", window, f.piece)
	}
	if f.shared > 1 {
		what += fmt.Sprintf(" (a piece shared by %d secrets: this is one of them)", f.shared)
	}
	return fmt.Sprintf("LEAK in %s, channel %s: %s (%q…), %s, at byte %d of %d",
		f.capture.source, f.capture.channel, f.secret.label, prefix4(f.secret.value), what, f.at, len(f.capture.text))
}

func prefix4(s string) string {
	if len(s) > 4 {
		return s[:4]
	}
	return s
}

// pieceRef is where a 16-character piece comes from.
type pieceRef struct {
	secret *secret
	offset int
}

// pieces returns the offsets of the pieces of s that are looked for: every
// window of a password; every window of a token except those entirely
// inside the public JWT header.
func pieces(s *secret) []int {
	if len(s.value) < window {
		return nil
	}
	skip := 0
	if s.token {
		if h, _, ok := strings.Cut(s.value, "."); ok && h == jwtHeader {
			// The first window with a character of the payload: the
			// header and its dot are the same in every token.
			skip = len(h) + 1 - window + 1
		}
	}
	var offs []int
	for i := skip; i+window <= len(s.value); i++ {
		offs = append(offs, i)
	}
	return offs
}

// ansiSeq matches terminal escape sequences (CSI and OSC), which a renderer
// may put between the characters of a line.
var ansiSeq = regexp.MustCompile(`\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-Z\\-_])`)

// scan looks for every secret in every capture and returns what it found:
// at most one finding per secret and capture, in the order of the captures.
// Captures are looked at as written and with terminal escapes removed.
//
// Tokens share pieces (the start of the payload is the same claims in the
// same order), so a piece is attributed to a secret only when it belongs to
// that secret alone. A piece shared by several secrets is reported on its
// own only when no piece of the same occurrence identifies the secret: then
// the finding says it is shared and names one of the secrets.
func (l *ledger) scan() (findings []finding, pieceCount, bytes int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	index := map[string][]pieceRef{}
	var short []*secret
	for i := range l.secrets {
		s := &l.secrets[i]
		offs := pieces(s)
		if offs == nil {
			short = append(short, s)
			continue
		}
		for _, o := range offs {
			p := s.value[o : o+window]
			index[p] = append(index[p], pieceRef{s, o})
		}
	}
	for ci := range l.captures {
		c := &l.captures[ci]
		bytes += len(c.text)
		found := map[*secret]bool{}
		texts := []string{c.text}
		if stripped := ansiSeq.ReplaceAllString(c.text, ""); stripped != c.text {
			texts = append(texts, stripped)
		}
		for _, text := range texts {
			type hit struct {
				at   int
				refs []pieceRef
			}
			var hits []hit
			for i := 0; i+window <= len(text); i++ {
				var refs []pieceRef
				for _, r := range index[text[i:i+window]] {
					if !(c.tokenStore && r.secret.token) {
						refs = append(refs, r)
					}
				}
				if len(refs) > 0 {
					hits = append(hits, hit{i, refs})
				}
			}
			// Where each identified secret starts in the text.
			starts := map[*secret]map[int]bool{}
			for _, h := range hits {
				if len(h.refs) != 1 {
					continue
				}
				r := h.refs[0]
				if starts[r.secret] == nil {
					starts[r.secret] = map[int]bool{}
				}
				starts[r.secret][h.at-r.offset] = true
				if !found[r.secret] {
					found[r.secret] = true
					findings = append(findings, finding{capture: c, secret: r.secret, piece: r.offset, at: h.at})
				}
			}
			for _, h := range hits {
				if len(h.refs) == 1 {
					continue
				}
				covered := false
				for _, r := range h.refs {
					covered = covered || starts[r.secret][h.at-r.offset]
				}
				if r := h.refs[0]; !covered && !found[r.secret] {
					found[r.secret] = true
					findings = append(findings, finding{capture: c, secret: r.secret, piece: r.offset, at: h.at, shared: len(h.refs)})
				}
			}
			for _, s := range short {
				if found[s] || (c.tokenStore && s.token) {
					continue
				}
				if i := strings.Index(text, s.value); i >= 0 {
					found[s] = true
					findings = append(findings, finding{capture: c, secret: s, piece: -1, at: i})
				}
			}
		}
	}
	return findings, len(index), bytes
}

// randomPassword returns n random letters and digits: no character that
// JSON, a URL or a shell would escape, so a leak reads the same in every
// channel.
func randomPassword(t testing.TB, n int) string {
	t.Helper()
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// The scanner must catch what it is meant to catch, or the leak test proves
// nothing: a test that passes because its scanner is blind is worse than
// none.
func TestScannerCatchesLeaks(t *testing.T) {
	t.Parallel()
	payload := base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"dyormock","sub":"a1","sid":"0123456789abcdef","typ":"refresh","exp":2000000000}`))
	sig := base64.RawURLEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	token := jwtHeader + "." + payload + "." + sig
	pw := randomPassword(t, 24)
	shortPw := randomPassword(t, 7)

	cases := []struct {
		name       string
		text       string
		tokenStore bool
		want       string // label of the secret expected, "" for none
	}{
		{"whole token", "Bearer " + token, false, "token"},
		{"16 characters of the signature", "x" + sig[10:26] + "y", false, "token"},
		{"16 characters across header and payload", "…" + token[30:46] + "…", false, "token"},
		{"16 characters of the payload", payload[20:36], false, "token"},
		{"the tail of the signature", sig[len(sig)-16:], false, "token"},
		{"15 characters of the signature", "x" + sig[10:25] + "y", false, ""},
		{"the public header", `{"hint":"` + jwtHeader + `"}`, false, ""},
		{"the header and its dot only", jwtHeader + ".", false, ""},
		{"a token split by a terminal escape", sig[:8] + "\x1b[1m" + sig[8:20], false, "token"},
		{"a password in a log line", `level=DEBUG msg=request password=` + pw, false, "password"},
		{"16 characters of a password", pw[3:19], false, "password"},
		{"a short password, whole", "got " + shortPw + ".", false, "password"},
		{"a token in the credentials file", `{"access":"` + token + `"}`, true, ""},
		{"a password in the credentials file", `{"note":"` + pw + `"}`, true, "password"},
		{"nothing", "Logged in to http://127.0.0.1:1234 as alice.", false, ""},
	}
	for _, tc := range cases {
		l := newLedger()
		l.token("token", token)
		l.password("pw", pw)
		l.password("short", shortPw)
		l.record(capture{source: "self-check", channel: tc.name, text: tc.text, tokenStore: tc.tokenStore})
		found, _, _ := l.scan()
		switch {
		case tc.want == "" && len(found) > 0:
			t.Errorf("%s: false alarm: %v", tc.name, found)
		case tc.want != "" && len(found) != 1:
			t.Errorf("%s: want one finding of the %s, got %v", tc.name, tc.want, found)
		case tc.want != "" && !strings.HasPrefix(found[0].secret.label, tc.want):
			t.Errorf("%s: found %s, want the %s", tc.name, found[0].secret.label, tc.want)
		case tc.want != "":
			msg := found[0].String()
			// The message names the channel and the command, and shows 4
			// characters of the secret at most.
			if !strings.Contains(msg, "self-check") || !strings.Contains(msg, tc.name) {
				t.Errorf("%s: message %q does not say where", tc.name, msg)
			}
			v := found[0].secret.value
			if strings.Contains(msg, v[:min(len(v), 5)]) {
				t.Errorf("%s: message %q shows more than 4 characters of the secret", tc.name, msg)
			}
		}
	}

	// Two tokens share the start of their payload: a leak of one names that
	// one, not the other; a leak of the shared part alone is reported as
	// shared.
	payload2 := base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"dyormock","sub":"a1","sid":"fedcba9876543210","typ":"refresh","exp":2000000000}`))
	sig2 := base64.RawURLEncoding.EncodeToString([]byte("fedcba9876543210fedcba9876543210"))
	token2 := jwtHeader + "." + payload2 + "." + sig2
	common := 0
	for common < len(payload) && payload[common] == payload2[common] {
		common++
	}
	if common < window+2 {
		t.Fatalf("the payloads share %d characters; the case needs more", common)
	}
	for _, tc := range []struct {
		name, text, want string
		shared           bool
	}{
		{"the second token whole", "Bearer " + token2, "second", false},
		{"the first token whole", token, "first", false},
		{"only their common start", payload[:common], "first", true},
	} {
		l := newLedger()
		l.token("first", token)
		l.token("second", token2)
		l.record(capture{source: "self-check", channel: tc.name, text: tc.text})
		found, _, _ := l.scan()
		if len(found) != 1 || !strings.HasPrefix(found[0].secret.label, tc.want) || (found[0].shared > 1) != tc.shared {
			t.Errorf("%s: want one finding of the %s token (shared: %v), got %v", tc.name, tc.want, tc.shared, found)
		}
	}

	// The pieces looked for: all windows of a password; for a token, none
	// entirely inside the header, all others.
	tok := secret{value: token, token: true}
	offs := pieces(&tok)
	if first := len(jwtHeader) + 1 - window + 1; offs[0] != first || offs[len(offs)-1] != len(token)-window {
		t.Errorf("token pieces from %d to %d, want %d to %d", offs[0], offs[len(offs)-1], first, len(token)-window)
	}
	if p := pieces(&secret{value: pw}); len(p) != len(pw)-window+1 {
		t.Errorf("%d pieces of a %d-character password", len(p), len(pw))
	}
}
