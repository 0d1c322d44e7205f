package mock

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/dyor-exchange/dyorctl/api"
)

// Token types, the typ claim.
const (
	typeAccess  = api.TypeAccess
	typeRefresh = api.TypeRefresh
)

// claims are the claims of every token the server issues.
type claims struct {
	Issuer    string `json:"iss"`
	Subject   string `json:"sub"` // account id
	SessionID string `json:"sid"`
	Type      string `json:"typ"`
	IssuedAt  int64  `json:"iat"`
	ExpiresAt int64  `json:"exp"`
	ID        string `json:"jti"`
}

// The jwt.Claims methods; validation is done by checkToken with the
// server's clock, so only what the interface needs is here.
func (c *claims) GetExpirationTime() (*jwt.NumericDate, error) {
	return jwt.NewNumericDate(time.Unix(c.ExpiresAt, 0)), nil
}
func (c *claims) GetIssuedAt() (*jwt.NumericDate, error) {
	return jwt.NewNumericDate(time.Unix(c.IssuedAt, 0)), nil
}
func (c *claims) GetNotBefore() (*jwt.NumericDate, error) { return nil, nil }
func (c *claims) GetIssuer() (string, error)              { return c.Issuer, nil }
func (c *claims) GetSubject() (string, error)             { return c.Subject, nil }
func (c *claims) GetAudience() (jwt.ClaimStrings, error)  { return nil, nil }

// signer issues and checks HS256 tokens.
type signer struct {
	secret []byte
	issuer string
	parser *jwt.Parser
	macs   sync.Pool // of *macState
}

// macState is an HMAC-SHA256 keyed with the server's secret, with buffers
// for its input and output, reused across requests.
type macState struct {
	h       hash.Hash
	scratch []byte
	sum     []byte
}

func newSigner(secret []byte, issuer string) *signer {
	return &signer{
		secret: secret,
		issuer: issuer,
		// An explicit allow-list: HS256 only. Claims are checked by
		// checkToken against the server's clock, in the contract's order.
		parser: jwt.NewParser(jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}), jwt.WithoutClaimsValidation()),
		macs: sync.Pool{New: func() any {
			return &macState{h: hmac.New(sha256.New, secret), sum: make([]byte, 0, sha256.Size)}
		}},
	}
}

// mac returns HMAC-SHA256 of data with the server's secret.
func (s *signer) mac(data []byte) [sha256.Size]byte {
	st := s.macs.Get().(*macState)
	defer s.macs.Put(st)
	return st.sumOf(data)
}

// macString is mac of a string, copied into a reused buffer rather than
// converted (the hash takes a []byte through an interface, which would
// allocate a copy on every request).
func (s *signer) macString(data string) [sha256.Size]byte {
	st := s.macs.Get().(*macState)
	defer s.macs.Put(st)
	st.scratch = append(st.scratch[:0], data...)
	return st.sumOf(st.scratch)
}

func (st *macState) sumOf(data []byte) (sum [sha256.Size]byte) {
	st.h.Reset()
	st.h.Write(data)
	copy(sum[:], st.h.Sum(st.sum[:0]))
	return sum
}

// jwtHeader is the base64url of {"alg":"HS256","typ":"JWT"}.
var jwtHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))

// appendToken appends c, signed as a JWT, to dst. The claims are a fixed
// set of short strings and integers, so they are written by hand rather
// than through reflection: this runs on every login and refresh.
func (s *signer) appendToken(dst []byte, c *claims) []byte {
	var buf [256]byte // the payload, on the stack for the usual sizes
	p := append(buf[:0], `{"iss":`...)
	p = appendJSONText(p, c.Issuer)
	p = append(p, `,"sub":`...)
	p = appendJSONText(p, c.Subject)
	p = append(p, `,"sid":`...)
	p = appendJSONText(p, c.SessionID)
	p = append(p, `,"typ":`...)
	p = appendJSONText(p, c.Type)
	p = append(p, `,"iat":`...)
	p = strconv.AppendInt(p, c.IssuedAt, 10)
	p = append(p, `,"exp":`...)
	p = strconv.AppendInt(p, c.ExpiresAt, 10)
	p = append(p, `,"jti":`...)
	p = appendJSONText(p, c.ID)
	p = append(p, '}')

	enc := base64.RawURLEncoding
	start := len(dst)
	dst = append(dst, jwtHeader...)
	dst = append(dst, '.')
	dst = enc.AppendEncode(dst, p)
	sum := s.mac(dst[start:])
	dst = append(dst, '.')
	return enc.AppendEncode(dst, sum[:])
}

// appendJSONText appends s as a JSON string. Ids, token types and the usual
// issuers are plain printable ASCII and are copied as they are; anything
// else is escaped by encoding/json.
func appendJSONText(b []byte, s string) []byte {
	for i := range len(s) {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return appendJSONString(b, s)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// issued is a new token pair for a session.
type issued struct {
	result          []byte // {"token":{"access":…,"refresh":…}}
	access, refresh []byte // the tokens, parts of result
	sessionID       string
}

// issue signs a token pair for a session and writes it as a token result,
// in one buffer. Tokens are base64url and dots, so they need no escaping.
func (s *signer) issue(accountID, sessionID string, now time.Time, accessTTL, refreshTTL time.Duration) issued {
	c := claims{Issuer: s.issuer, Subject: accountID, SessionID: sessionID, Type: typeAccess,
		IssuedAt: now.Unix(), ExpiresAt: now.Add(accessTTL).Unix(), ID: newID()}
	b := make([]byte, 0, tokenResultSize)
	b = append(b, `{"token":{"access":"`...)
	a0 := len(b)
	b = s.appendToken(b, &c)
	a1 := len(b)
	c.Type, c.ExpiresAt, c.ID = typeRefresh, now.Add(refreshTTL).Unix(), newID()
	b = append(b, `","refresh":"`...)
	r0 := len(b)
	b = s.appendToken(b, &c)
	r1 := len(b)
	b = append(b, `"}}`...)
	return issued{result: b, access: b[a0:a1], refresh: b[r0:r1], sessionID: sessionID}
}

// tokenResultSize is room for a token result with the usual claims.
const tokenResultSize = 1024

// check verifies a token in the contract's order: malformed, bad
// signature, wrong algorithm or another issuer → CodeBadToken; expired →
// CodeTokenExpired; a type not in want → CodeBadToken. The session is
// checked by the caller. An expired token's claims are returned with the
// error; they are signed.
func (s *signer) check(token string, now time.Time, want ...string) (*claims, *Error) {
	var c claims
	if !s.verifyOwn(token, &c) {
		// Not in the form this server signs: golang-jwt decides, with HS256
		// as the only allowed method.
		if _, err := s.parser.ParseWithClaims(token, &c, s.key); err != nil {
			return nil, errBadToken
		}
	}
	if c.Issuer != s.issuer || c.SessionID == "" || c.Subject == "" || c.ExpiresAt == 0 {
		return nil, errBadToken
	}
	if now.Unix() >= c.ExpiresAt {
		return &c, errTokenExpired // the claims say whose token it was (findings)
	}
	for _, t := range want {
		if c.Type == t {
			return &c, nil
		}
	}
	return nil, errWrongTokenType
}

// verifyOwn is the fast path for tokens with the exact header this server
// signs ({"alg":"HS256","typ":"JWT"}): it checks the signature and decodes
// the claims into c. It returns false for any other token, and for a bad
// signature or payload, leaving the verdict to the general parser.
func (s *signer) verifyOwn(token string, c *claims) bool {
	rest, ok := strings.CutPrefix(token, jwtHeader+".")
	if !ok {
		return false
	}
	payload, sig, ok := strings.Cut(rest, ".")
	if !ok {
		return false
	}
	enc := base64.RawURLEncoding
	var sigBuf [64]byte // the signature, copied to decode it without allocating
	var got [sha256.Size]byte
	if enc.DecodedLen(len(sig)) != sha256.Size || len(sig) > len(sigBuf) {
		return false
	}
	n := copy(sigBuf[:], sig)
	if n, err := enc.Decode(got[:], sigBuf[:n]); err != nil || n != sha256.Size {
		return false
	}
	if want := s.macString(token[:len(token)-len(sig)-1]); !hmac.Equal(want[:], got[:]) {
		return false
	}
	raw, err := enc.DecodeString(payload)
	if err != nil {
		return false
	}
	return parseOwnClaims(raw, c) || json.Unmarshal(raw, c) == nil
}

// parseOwnClaims reads a payload written by appendToken, member by member
// in its order, without reflection. Anything else (another order, other
// members, any escaped character) returns false and is left to
// encoding/json.
func parseOwnClaims(b []byte, c *claims) bool {
	p := string(b)
	str := func(name string, dst *string) bool {
		rest, ok := strings.CutPrefix(p, name)
		if !ok || !strings.HasPrefix(rest, `"`) {
			return false
		}
		end := strings.IndexByte(rest[1:], '"')
		if end < 0 || strings.IndexByte(rest[1:end+1], '\\') >= 0 {
			return false // escapes: leave to encoding/json
		}
		*dst, p = rest[1:end+1], rest[end+2:]
		return true
	}
	num := func(name string, dst *int64) bool {
		rest, ok := strings.CutPrefix(p, name)
		if !ok {
			return false
		}
		end := strings.IndexAny(rest, ",}")
		n, err := strconv.ParseInt(rest[:max(end, 0)], 10, 64)
		if end < 0 || err != nil {
			return false
		}
		*dst, p = n, rest[end:]
		return true
	}
	return str(`{"iss":`, &c.Issuer) && str(`,"sub":`, &c.Subject) && str(`,"sid":`, &c.SessionID) &&
		str(`,"typ":`, &c.Type) && num(`,"iat":`, &c.IssuedAt) && num(`,"exp":`, &c.ExpiresAt) &&
		str(`,"jti":`, &c.ID) && p == "}"
}

func (s *signer) key(t *jwt.Token) (any, error) {
	if t.Method != jwt.SigningMethodHS256 {
		return nil, errors.New("unexpected signing method")
	}
	return s.secret, nil
}

// bearerToken returns the token of an "Authorization: Bearer …" header. The
// scheme is case-insensitive (RFC 7235).
func bearerToken(header string) (string, *Error) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", errNoToken
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return "", errNoToken
	}
	return token, nil
}

// id is a session or account id: 128 random bits, written base64url
// without padding (22 characters) in tokens and on the wire. Ids are not
// secrets (tokens are signed), so they come from the runtime's ChaCha8
// generator, seeded by the OS, rather than a syscall each.
type id [16]byte

// idEncoding reads and writes ids; Strict refuses the other spellings of the
// same bytes, so an id has one written form.
var idEncoding = base64.RawURLEncoding.Strict()

func newRawID() id {
	var b id
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(b[8:], rand.Uint64())
	return b
}

// newID returns a new id in its written form.
func newID() string { return newRawID().String() }

func (b id) String() string { return idEncoding.EncodeToString(b[:]) }

// parseID reads an id's written form; ok is false for anything this server
// could not have issued.
func parseID(s string) (b id, ok bool) {
	if len(s) != idEncoding.EncodedLen(len(b)) {
		return b, false
	}
	n, err := idEncoding.Decode(b[:], []byte(s))
	return b, err == nil && n == len(b)
}
