// Package mock is an in-memory implementation of the DYOR account API
// (register, login, refresh, logout under /api/v1/account) for tests.
//
// It follows net/http/httptest's shape: Start gives a live server on a free
// loopback port that the test's cleanup closes, NewServer does the same outside
// tests, and Handler serves the API from any http.Server or httptest.Server.
//
//	srv := mock.Start(t, mock.WithBcryptCost(4))
//	resp, err := http.Post(srv.URL+"/api/v1/account/login", "application/json",
//		strings.NewReader(`{"username":"john@API","password":"honeyBunnies"}`))
//
// The server implements the whole contract of api/openapi.yaml: bcrypt
// password hashes, HS256 JWTs bound to sessions, refresh-token rotation with
// reuse detection (RFC 9700 §4.14.2), logout, lockout after repeated wrong
// passwords, and the input rules. Besides the API it has a control plane, as Go
// methods on *Server and as HTTP routes under /_mock/: list and add accounts,
// list, mint and revoke sessions, fault rules, a clock that can be moved
// forward, a bounded request journal, settings, findings, and reset.
//
// The fault rules reach the cases that break clients of rotating tokens:
// an answer lost after the work was done (Fault.After), requests held until
// they collide (Fault.Collide), and a rotation grace (WithRefreshGrace,
// UpdateSettings) under which the previous refresh token gets the pair it
// missed. The server notes what a well-behaved client never does (Findings:
// reuse, expired tokens, early refreshes, leaked sessions), and
// FailOnFindings makes Start fail a test that did any of it.
//
// All state belongs to one Server (there are no package globals), so parallel
// tests each get their own. No lock is held while hashing or signing. A server
// at the default options starts as fast as httptest.NewServer: seed accounts
// are hashed on first use. A login whose password verified before skips bcrypt
// (WithLoginCache). NewTenant (POST /_mock/tenants) makes a tenant: a Server of
// its own, served under URL/t/{id}, for parallel workers sharing one process.
package mock
