// Package client is a Go SDK for the DYOR account API: register, log in,
// refresh and log out, without touching HTTP.
//
//	c, err := client.New("https://www.dyorbackend.tk")
//	...
//	tokens, err := c.Login(ctx, "john@API", "honeyBunnies")
//	...
//	access, err := c.AccessToken(ctx) // refreshed first when about to expire
//
// # Tokens
//
// The server issues a pair of JWTs: a short-lived access token and a
// longer-lived refresh token. Tokens carries both, plus what the client reads
// from their claims: the session id, the account id and the expiry times.
// The claims are read without verifying the signature — the client does not
// have the server's key — so they only decide when to refresh and what to
// show; whether a token is accepted is for the server to say.
//
// # Storage
//
// The tokens live in a TokenStore: in memory by default (NewMemoryStore), or
// in the credentials file that dyorctl uses (package credstore), so that a
// Go program can reuse a dyorctl login.
//
// # Refreshing
//
// A refresh rotates the session: the server deletes the old session and
// treats a second use of its refresh token as theft, revoking the session
// for good. So the client
//   - refreshes inside TokenStore.Update, under the store's lock (a
//     cross-process file lock for the file store), re-reading the tokens
//     there: if another process has refreshed meanwhile, its tokens are
//     used and no request is sent;
//   - saves the rotated pair before any caller gets it;
//   - shares one refresh among all concurrent callers of one Client;
//   - never retries a refresh by itself: one whose answer was lost may
//     already have rotated the session.
//
// AccessToken refreshes when the access token expires within the refresh
// margin (60 s, or half the token's lifetime if that is shorter; see
// WithRefreshMargin). HTTPClient adds the access token to requests for other
// routes of the same server, and refreshes once when the server answers 401.
//
// # Clocks
//
// The tokens' times are on the server's clock. Login and Refresh measure
// how far it is from this machine's, from the answer's Date header, and
// keep it in Tokens.ClockOffset (stored with the tokens); every expiry
// decision (the margin, Valid, Logout's choice of token) compares with
// Tokens.ServerNow, so a machine whose clock is minutes off still refreshes
// in time.
//
// # Retries
//
// A request is sent again only when it provably never reached the server
// (a dial error), or for register and login after a 429 or 503 answer with
// Retry-After (see WithRetries). A refresh whose answer was lost is never
// sent again: the server may have rotated the session, and a second use of
// the old refresh token would revoke it. Callers re-read the store instead.
//
// When the server no longer accepts the session (api.Code.SessionRejected), or
// the refresh token has expired by its claims, the stored tokens are removed
// and the error matches ErrSessionInvalid: the user has to log in again.
// After a network error or a 5xx answer they are kept.
//
// # Errors
//
// Every answer that is not a success is an *APIError with the HTTP status,
// the application code and the server's message (or a short, cleaned
// excerpt of a body that was not the API's JSON, such as a proxy's HTML
// page). The sentinels (ErrWrongPassword, ErrSessionInvalid, …) match with
// errors.Is. Network and context errors are wrapped with %w, so
// errors.Is(err, context.DeadlineExceeded) and errors.As(err, &urlErr) work.
// Error messages never contain a token or a password.
package client
