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
)

// Token types, the typ claim.
const (
	typeAccess  = "access"
	typeRefresh = "refresh"
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
	macs   sync.Pool // of hash.Hash: HMAC-SHA256 keyed with secret
}

func newSigner(secret []byte, issuer string) *signer {
	return &signer{
		secret: secret,
		issuer: issuer,
		// An explicit allow-list: HS256 only. Claims are checked by
		// checkToken against the server's clock, in the contract's order.
		parser: jwt.NewParser(jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}), jwt.WithoutClaimsValidation()),
		macs:   sync.Pool{New: func() any { return hmac.New(sha256.New, secret) }},
	}
}

// mac computes HMAC-SHA256 of data with the server's secret, appended to b.
func (s *signer) mac(b, data []byte) []byte {
	h := s.macs.Get().(hash.Hash)
	h.Reset()
	h.Write(data)
	b = h.Sum(b)
	s.macs.Put(h)
	return b
}

// jwtHeader is the base64url of {"alg":"HS256","typ":"JWT"}.
var jwtHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))

// sign encodes c as a JWT. The claims are a fixed set of short ASCII
// strings and integers, so they are written by hand rather than through
// reflection: this runs on every login and refresh.
func (s *signer) sign(c *claims) string {
	payload := make([]byte, 0, 192)
	payload = append(payload, `{"iss":`...)
	payload = strconv.AppendQuote(payload, c.Issuer)
	payload = append(payload, `,"sub":`...)
	payload = strconv.AppendQuote(payload, c.Subject)
	payload = append(payload, `,"sid":`...)
	payload = strconv.AppendQuote(payload, c.SessionID)
	payload = append(payload, `,"typ":`...)
	payload = strconv.AppendQuote(payload, c.Type)
	payload = append(payload, `,"iat":`...)
	payload = strconv.AppendInt(payload, c.IssuedAt, 10)
	payload = append(payload, `,"exp":`...)
	payload = strconv.AppendInt(payload, c.ExpiresAt, 10)
	payload = append(payload, `,"jti":`...)
	payload = strconv.AppendQuote(payload, c.ID)
	payload = append(payload, '}')

	enc := base64.RawURLEncoding
	buf := make([]byte, 0, len(jwtHeader)+1+enc.EncodedLen(len(payload))+1+enc.EncodedLen(sha256.Size))
	buf = append(buf, jwtHeader...)
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, payload)
	var sum [sha256.Size]byte
	mac := s.mac(sum[:0], buf)
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, mac)
	return string(buf)
}

// issuePair signs an access and a refresh token for a session.
func (s *signer) issuePair(accountID, sessionID string, now time.Time, accessTTL, refreshTTL time.Duration) (access, refresh string) {
	c := claims{Issuer: s.issuer, Subject: accountID, SessionID: sessionID, Type: typeAccess,
		IssuedAt: now.Unix(), ExpiresAt: now.Add(accessTTL).Unix(), ID: newID()}
	access = s.sign(&c)
	c.Type, c.ExpiresAt, c.ID = typeRefresh, now.Add(refreshTTL).Unix(), newID()
	refresh = s.sign(&c)
	return access, refresh
}

// check verifies a token in the contract's order: malformed, bad
// signature, wrong algorithm or another issuer → 401002; expired → 401003;
// a type not in want → 401002. The session is checked by the caller.
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
		return nil, errTokenExpired
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
	var want, got [sha256.Size]byte
	if enc.DecodedLen(len(sig)) != sha256.Size {
		return false
	}
	if n, err := enc.Decode(got[:], []byte(sig)); err != nil || n != sha256.Size {
		return false
	}
	if !hmac.Equal(s.mac(want[:0], []byte(token[:len(token)-len(sig)-1])), got[:]) {
		return false
	}
	raw, err := enc.DecodeString(payload)
	if err != nil {
		return false
	}
	return parseOwnClaims(raw, c) || json.Unmarshal(raw, c) == nil
}

// parseOwnClaims reads a payload written by sign, member by member in
// sign's order, without reflection. Anything else (another order, other
// members, escapes strconv.Unquote does not read as JSON would) returns
// false and is left to encoding/json.
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

// newID returns 128 random bits, base64url-encoded (22 characters). Ids
// are not secrets (tokens are signed), so they come from the runtime's
// ChaCha8 generator, seeded by the OS, rather than a syscall each.
func newID() string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(b[8:], rand.Uint64())
	return base64.RawURLEncoding.EncodeToString(b[:])
}
