package api

import "encoding/json"

// Claim names of the tokens, and the values of ClaimType. Tokens are HS256
// JWTs.
const (
	ClaimIssuer    = "iss"
	ClaimSubject   = "sub" // the account id
	ClaimSessionID = "sid" // the session id
	ClaimType      = "typ" // TypeAccess or TypeRefresh
	ClaimIssuedAt  = "iat"
	ClaimExpiresAt = "exp"
	ClaimID        = "jti"

	TypeAccess  = "access"
	TypeRefresh = "refresh"
)

// Envelope is every answer of the API: {"ok":true,"result":{…}} on success,
// {"ok":false,"error":{"code","message"}} otherwise.
type Envelope struct {
	OK     bool            `json:"ok"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  *ErrorBody      `json:"error,omitempty"`
}

// ErrorBody is the error member of a failure envelope.
type ErrorBody struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
}

// Credentials is the body of register and login.
type Credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// TokenPair is the token member of the login and refresh results.
type TokenPair struct {
	Access  string `json:"access"`
	Refresh string `json:"refresh"`
}

// TokenResult is the result of login and refresh: {"token":{…}}.
type TokenResult struct {
	Token TokenPair `json:"token"`
}
