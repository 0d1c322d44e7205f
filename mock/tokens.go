package mock

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
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
}

func newSigner(secret []byte, issuer string) *signer {
	return &signer{
		secret: secret,
		issuer: issuer,
		// An explicit allow-list: HS256 only. Claims are checked by
		// checkToken against the server's clock, in the contract's order.
		parser: jwt.NewParser(jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}), jwt.WithoutClaimsValidation()),
	}
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
	mac := hmac.New(sha256.New, s.secret)
	mac.Write(buf)
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, mac.Sum(nil))
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
	if _, err := s.parser.ParseWithClaims(token, &c, s.key); err != nil {
		return nil, errBadToken
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

// newID returns 128 random bits, base64url-encoded (22 characters).
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	return base64.RawURLEncoding.EncodeToString(b[:])
}
