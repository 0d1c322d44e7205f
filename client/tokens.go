package client

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/dyor-exchange/dyorctl/api"
)

// Tokens is a token pair plus what the client can read from its claims.
//
// The claims are read without verifying the signature: the client does not
// hold the server's key, so they are a hint for scheduling refreshes and for
// display, not a proof. The server is the authority on whether a token is
// accepted.
type Tokens struct {
	Access  string
	Refresh string

	// Username is not in the tokens: Login sets it, Refresh carries it over
	// and stores keep it.
	Username string

	SessionID        string    // "sid" claim of the access token
	Subject          string    // "sub" claim (the account id)
	AccessIssuedAt   time.Time // "iat" claim of the access token (zero if absent)
	AccessExpiresAt  time.Time // "exp" claim of the access token
	RefreshExpiresAt time.Time // "exp" claim of the refresh token

	// ClockOffset is how far the server's clock was ahead of this
	// machine's (negative: behind) when it issued the tokens, measured from
	// the Date header of the login or refresh answer; zero when not
	// measured or within the header's one-second resolution. The tokens'
	// times are on the server's clock: compare them with ServerNow.
	ClockOffset time.Duration
}

// ClockSkewWarning is how far this machine's clock may be from the
// server's before tools say so (dyorctl status, the app's dashboard): the
// expiry decisions use the server's clock anyway, but a clock that far off
// misleads every other program on the machine.
const ClockSkewWarning = 30 * time.Second

// ServerNow returns the time on the server's clock when this machine's
// clock reads local: local moved by ClockOffset. Every expiry decision
// compares the tokens' times with it, so that a machine whose clock is off
// neither refreshes too late nor thinks a live session expired.
func (t Tokens) ServerNow(local time.Time) time.Time { return local.Add(t.ClockOffset) }

// IsZero reports whether t holds no token.
func (t Tokens) IsZero() bool { return t.Access == "" && t.Refresh == "" }

// Refreshable reports whether t is a live session at now (a time on the
// server's clock: see ServerNow): its refresh token has not expired (by its
// "exp" claim), so a refresh can still be asked for. It says nothing of the
// access token, which may have expired; the server may still have revoked
// the session.
func (t Tokens) Refreshable(now time.Time) bool {
	return t.Refresh != "" && now.Before(t.RefreshExpiresAt)
}

// Valid is Refreshable.
//
// Deprecated: the name suggested the access token (as oauth2.Token.Valid
// means); use Refreshable.
func (t Tokens) Valid(now time.Time) bool { return t.Refreshable(now) }

// String describes t without its tokens, so that printing a Tokens by
// mistake does not leak them.
func (t Tokens) String() string {
	if t.IsZero() {
		return "client.Tokens{}"
	}
	return fmt.Sprintf("client.Tokens{Username: %q, SessionID: %q, AccessExpiresAt: %s, RefreshExpiresAt: %s}",
		t.Username, t.SessionID, t.AccessExpiresAt.Format(time.RFC3339), t.RefreshExpiresAt.Format(time.RFC3339))
}

// GoString is String, for %#v.
func (t Tokens) GoString() string { return t.String() }

// ParseTokens reads the claims of an access and a refresh JWT, without
// checking their signatures (see Tokens). Each must be a JWT whose payload
// decodes and carries an "exp" claim. The Username field is left empty.
func ParseTokens(access, refresh string) (Tokens, error) {
	ac, err := readClaims(access)
	if err != nil {
		return Tokens{}, fmt.Errorf("access token: %w", err)
	}
	rc, err := readClaims(refresh)
	if err != nil {
		return Tokens{}, fmt.Errorf("refresh token: %w", err)
	}
	t := Tokens{
		Access:           access,
		Refresh:          refresh,
		SessionID:        ac.Sid,
		Subject:          ac.Sub,
		AccessExpiresAt:  ac.exp,
		RefreshExpiresAt: rc.exp,
	}
	if ac.iat != nil {
		t.AccessIssuedAt = *ac.iat
	}
	if t.SessionID == "" {
		t.SessionID = rc.Sid
	}
	if t.Subject == "" {
		t.Subject = rc.Sub
	}
	return t, nil
}

type claims struct {
	Sub string      `json:"sub"`
	Sid string      `json:"sid"`
	Exp json.Number `json:"exp"`
	Iat json.Number `json:"iat"`

	exp time.Time
	iat *time.Time
}

var errNotJWT = errors.New("not a JWT (want three base64url parts separated by dots)")

func readClaims(token string) (claims, error) {
	var c claims
	parts := strings.Split(token, ".")
	if len(parts) != 3 || parts[1] == "" {
		return c, errNotJWT
	}
	// JWTs use unpadded base64url; tolerate padding from lenient issuers.
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return c, fmt.Errorf("payload is not base64url: %w", err)
	}
	// Claim names are case-sensitive (RFC 7519), but encoding/json matches
	// struct fields case-insensitively: read the members by exact name.
	var members map[string]json.RawMessage
	if err := json.Unmarshal(payload, &members); err != nil || members == nil {
		return c, errors.New("payload is not a JSON object of claims")
	}
	for name, dst := range map[string]any{api.ClaimSubject: &c.Sub, api.ClaimSessionID: &c.Sid, api.ClaimExpiresAt: &c.Exp, api.ClaimIssuedAt: &c.Iat} {
		if raw, ok := members[name]; ok && string(raw) != "null" {
			if err := json.Unmarshal(raw, dst); err != nil {
				return c, fmt.Errorf("claim %q: %w", name, err)
			}
		}
	}
	if c.Exp == "" {
		return c, errors.New(`no "exp" claim`)
	}
	if c.exp, err = numericDate(c.Exp); err != nil {
		return c, fmt.Errorf(`"exp" claim: %w`, err)
	}
	if c.Iat != "" {
		iat, err := numericDate(c.Iat)
		if err != nil {
			return c, fmt.Errorf(`"iat" claim: %w`, err)
		}
		c.iat = &iat
	}
	return c, nil
}

// numericDate converts a JWT NumericDate (seconds since the epoch, maybe
// fractional) to a time.
func numericDate(n json.Number) (time.Time, error) {
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e15 {
		return time.Time{}, fmt.Errorf("%q is not a number of seconds", n.String())
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
}
