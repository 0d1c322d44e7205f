package api

import "strconv"

// A Code is an application error code. The HTTP status of an answer that
// carries it is always Code / 1000.
type Code int

// The error codes of the contract.
const (
	CodeInvalidJSON      Code = 400001 // body is not valid JSON, or not an object
	CodeInvalidField     Code = 400002 // a field missing, of the wrong type, or breaking its rule
	CodeNoToken          Code = 401001 // no Authorization: Bearer token
	CodeBadToken         Code = 401002 // token malformed, bad signature, wrong algorithm or issuer, or wrong type for the route
	CodeTokenExpired     Code = 401003 // token expired
	CodeSessionNotFound  Code = 401004 // session not found: logged out, rotated or revoked
	CodeWrongPassword    Code = 401005 // wrong password
	CodeAccountLocked    Code = 403002 // account locked after repeated wrong passwords
	CodeNoRoute          Code = 404000 // no such route
	CodeAccountNotFound  Code = 404001 // no account with that username
	CodeNotFound         Code = 404002 // (control plane) no such session, account, rule or tenant
	CodeMethodNotAllowed Code = 405000 // method not allowed; the answer has an Allow header
	CodeUsernameTaken    Code = 409001 // username already registered
	CodeBodyTooLarge     Code = 413001 // body larger than MaxBodyBytes
	CodeUnsupportedType  Code = 415001 // a body that is not application/json
	CodeTooManyTenants   Code = 429000 // (control plane) the mock's tenant limit is reached
	CodeInternal         Code = 500000 // internal error, never caused by client input
)

// Codes lists every code of the contract, in ascending order.
var Codes = []Code{
	CodeInvalidJSON, CodeInvalidField, CodeNoToken, CodeBadToken, CodeTokenExpired,
	CodeSessionNotFound, CodeWrongPassword, CodeAccountLocked, CodeNoRoute,
	CodeAccountNotFound, CodeNotFound, CodeMethodNotAllowed, CodeUsernameTaken,
	CodeBodyTooLarge, CodeUnsupportedType, CodeTooManyTenants, CodeInternal,
}

var meanings = map[Code]string{
	CodeInvalidJSON:      "the body is not valid JSON, or not an object",
	CodeInvalidField:     "a field is missing, of the wrong type, or breaks its rule",
	CodeNoToken:          "no Authorization: Bearer token",
	CodeBadToken:         "the token is malformed, badly signed, or of the wrong type for the route",
	CodeTokenExpired:     "the token has expired",
	CodeSessionNotFound:  "the session was not found (logged out, rotated or revoked)",
	CodeWrongPassword:    "wrong password",
	CodeAccountLocked:    "the account is locked after repeated wrong passwords",
	CodeNoRoute:          "no such route",
	CodeAccountNotFound:  "no account with that username",
	CodeNotFound:         "no such session, account, rule or tenant (control plane)",
	CodeMethodNotAllowed: "method not allowed",
	CodeUsernameTaken:    "the username is already registered",
	CodeBodyTooLarge:     "the body is larger than 64 KiB",
	CodeUnsupportedType:  "the body is not application/json",
	CodeTooManyTenants:   "the mock holds as many tenants as it may (control plane)",
	CodeInternal:         "internal error",
}

// Status is the HTTP status that answers with c: c / 1000.
func (c Code) Status() int { return int(c) / 1000 }

// Known reports whether c is a code of the contract.
func (c Code) Known() bool {
	_, ok := meanings[c]
	return ok
}

// Meaning says in words what c stands for ("" for a code the contract
// does not have).
func (c Code) Meaning() string { return meanings[c] }

// String is the code's number, as it travels.
func (c Code) String() string { return strconv.Itoa(int(c)) }

// SessionRejected reports whether c says that the token or its session is
// no longer good (401001–401004): the client must log in again.
func (c Code) SessionRejected() bool {
	switch c {
	case CodeNoToken, CodeBadToken, CodeTokenExpired, CodeSessionNotFound:
		return true
	}
	return false
}

// InvalidInput reports whether c says that the request's body broke a rule
// (400001, 400002, 413001, 415001).
func (c Code) InvalidInput() bool {
	switch c {
	case CodeInvalidJSON, CodeInvalidField, CodeBodyTooLarge, CodeUnsupportedType:
		return true
	}
	return false
}
