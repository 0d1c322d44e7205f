package tui

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/dyor-exchange/dyorctl/client"
)

// session is what the app keeps of a token pair: what the dashboard shows and
// what auto-refresh needs. The tokens themselves never reach a model, so no
// view can show them.
type session struct {
	Server           string // normalised, as the store keys it
	Username         string
	SessionID        string
	AccessIssuedAt   time.Time
	AccessExpiresAt  time.Time
	RefreshExpiresAt time.Time
	// ClockOffset is how far the server's clock is ahead of this machine's
	// (client.Tokens.ClockOffset): the times above are on the server's
	// clock, so every countdown reads it through now.
	ClockOffset time.Duration
}

func sessionOf(t client.Tokens) session {
	return session{
		Username:         t.Username,
		SessionID:        t.SessionID,
		AccessIssuedAt:   t.AccessIssuedAt,
		AccessExpiresAt:  t.AccessExpiresAt,
		RefreshExpiresAt: t.RefreshExpiresAt,
		ClockOffset:      t.ClockOffset,
	}
}

// now is the server's time when this machine's clock reads local.
func (s session) now(local time.Time) time.Time { return local.Add(s.ClockOffset) }

// valid reports whether the session can still be refreshed when this
// machine's clock reads local: its refresh token has not expired on the
// server's clock.
func (s session) valid(local time.Time) bool {
	return s.now(local).Before(s.RefreshExpiresAt)
}

// Results of the commands: one message type per kind of result, errors
// included.
type (
	// accountsMsg is the stored accounts, read at start (startup), on the
	// way home, or again for the accounts screen already shown (reload).
	accountsMsg struct {
		accounts []storedAccount
		startup  bool
		reload   bool
		err      error
	}
	// accountOpenedMsg: the account is now its server's active one.
	accountOpenedMsg struct {
		session session
		err     error
	}
	// accountLoggedOutMsg: the account was logged out from the accounts
	// screen and removed from the store; err says what went wrong on the
	// way (the server's part, usually).
	accountLoggedOutMsg struct {
		session session
		err     error
	}
	loginResultMsg struct {
		session session
		err     error
	}
	registerResultMsg struct {
		server   string
		username string
		err      error
	}
	refreshResultMsg struct {
		session session
		auto    bool // started by auto-refresh
		err     error
	}
	logoutResultMsg struct {
		err error
	}
	// dashboardTickMsg drives the dashboard's countdowns; id is the tick
	// loop it belongs to, so that only one loop ever runs.
	dashboardTickMsg struct {
		id int
	}
	// retryRefreshMsg is auto-refresh's next try after a failure; id is the
	// dashboard showing it was scheduled for, gen the run of failures.
	retryRefreshMsg struct {
		id, gen int
	}
)

// deps are what the screens share: how to reach the servers and the store,
// and how to draw. The commands capture from it the values they need when
// they are made.
type deps struct {
	ctx       context.Context
	store     AccountStore
	newClient func(server string, st client.TokenStore) (*client.Client, error)
	server    string // the forms' default server, normalised
	now       func() time.Time
	timeout   time.Duration // of each request
	backoff   backoff       // of auto-refresh's retries
	styles    *styles

	// clients are the clients of the servers' active accounts, made on
	// first use. Only updates touch it.
	clients map[string]*client.Client
}

var errNoClient = errors.New("tui: neither Options.Client nor Options.Accounts is set")

// clientFor returns the client of server's active account.
func (d deps) clientFor(server string) (*client.Client, error) {
	if c, ok := d.clients[server]; ok {
		return c, nil
	}
	if d.store == nil {
		return nil, errNoClient
	}
	c, err := d.newClient(server, d.store.ForServer(server))
	if err != nil {
		return nil, err
	}
	if d.clients != nil {
		d.clients[server] = c
	}
	return c, nil
}

func isNotLoggedIn(err error) bool { return errors.Is(err, client.ErrNotLoggedIn) }

// failedCmd answers msg at once: the result of a command that cannot even
// start (no client for the server).
func failedCmd(msg tea.Msg) tea.Cmd { return func() tea.Msg { return msg } }

// loadAccountsCmd reads the stored accounts (no network) for msg.
func loadAccountsCmd(d deps, msg accountsMsg) tea.Cmd {
	st := d.store
	return func() tea.Msg {
		if st == nil {
			msg.err = errNoClient
			return msg
		}
		list, err := st.Accounts()
		msg.accounts, msg.err = storedAccountsOf(list), err
		return msg
	}
}

// openAccountCmd makes s's account its server's active one, as "dyorctl
// switch" does (a write only when it is not already).
func openAccountCmd(d deps, a storedAccount) tea.Cmd {
	ctx, st, timeout := d.ctx, d.store, d.timeout
	return func() tea.Msg {
		if a.Active {
			return accountOpenedMsg{session: a.Session}
		}
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		return accountOpenedMsg{session: a.Session, err: st.Switch(ctx, a.Session.Server, a.Session.Username)}
	}
}

// logoutAccountCmd revokes a stored account's session on its server, then
// removes it from the store: always, as "dyorctl logout" does.
func logoutAccountCmd(d deps, a storedAccount) tea.Cmd {
	s := a.Session
	c, err := d.newClient(s.Server, accountTokens{store: d.store, server: s.Server, username: s.Username})
	if err != nil {
		return failedCmd(accountLoggedOutMsg{session: s, err: err})
	}
	ctx, st, timeout := d.ctx, d.store, d.timeout
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		err := c.Logout(ctx)
		if isNotLoggedIn(err) {
			err = nil // removed meanwhile: nothing left to do
		}
		// Logout removes the account whatever the server said; this makes
		// sure of it when it could not even start.
		if rmErr := st.Remove(ctx, s.Server, s.Username); rmErr != nil && err == nil {
			err = rmErr
		}
		return accountLoggedOutMsg{session: s, err: err}
	}
}

func loginCmd(d deps, server, username, password string) tea.Cmd {
	c, err := d.clientFor(server)
	if err != nil {
		return failedCmd(loginResultMsg{err: err})
	}
	ctx, timeout := d.ctx, d.timeout
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		t, err := c.Login(ctx, username, password)
		s := sessionOf(t)
		s.Server = server
		return loginResultMsg{session: s, err: err}
	}
}

func registerCmd(d deps, server, username, password string) tea.Cmd {
	c, err := d.clientFor(server)
	if err != nil {
		return failedCmd(registerResultMsg{server: server, username: username, err: err})
	}
	ctx, timeout := d.ctx, d.timeout
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		return registerResultMsg{server: server, username: username, err: c.Register(ctx, username, password)}
	}
}

func refreshCmd(d deps, server string, auto bool) tea.Cmd {
	c, err := d.clientFor(server)
	if err != nil {
		return failedCmd(refreshResultMsg{auto: auto, err: err})
	}
	ctx, timeout := d.ctx, d.timeout
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		t, err := c.Refresh(ctx)
		s := sessionOf(t)
		s.Server = server
		return refreshResultMsg{session: s, auto: auto, err: err}
	}
}

func logoutCmd(d deps, server string) tea.Cmd {
	c, err := d.clientFor(server)
	if err != nil {
		return failedCmd(logoutResultMsg{err: err})
	}
	ctx, timeout := d.ctx, d.timeout
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		return logoutResultMsg{err: c.Logout(ctx)}
	}
}

// errorText says what went wrong in words a person reads next to a form.
// username is the one the request was for.
func errorText(err error, username string) string {
	switch {
	case errors.Is(err, client.ErrWrongPassword):
		return "wrong password"
	case errors.Is(err, client.ErrAccountNotFound):
		return "no account named " + username
	case errors.Is(err, client.ErrAccountLocked):
		return "account locked"
	case errors.Is(err, client.ErrUsernameTaken):
		return "username taken"
	case errors.Is(err, client.ErrSessionInvalid):
		return "session expired, log in again"
	case errors.Is(err, client.ErrNotLoggedIn):
		return "not logged in"
	case errors.Is(err, context.DeadlineExceeded):
		return "cannot reach the server: it did not answer in time"
	}
	var apiErr *client.APIError
	if errors.As(err, &apiErr) {
		switch {
		case apiErr.Status >= 500:
			return "the server failed: " + apiErr.Error()
		case errors.Is(err, client.ErrInvalidInput) && apiErr.Message != "":
			return "the server refused it: " + apiErr.Message
		}
		return apiErr.Error()
	}
	if reason, ok := networkError(err); ok {
		return "cannot reach the server: " + reason
	}
	return err.Error()
}

// networkError reports whether err is a failure to talk to the server, and
// the reason without the request's URL.
func networkError(err error) (string, bool) {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return urlErr.Err.Error(), true
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return netErr.Error(), true
	}
	return "", false
}

// logoutNote is what the menu says after a logout: the stored tokens are gone
// either way, the server's session maybe not.
func logoutNote(err error) (note string, isError bool) {
	switch {
	case err == nil, errors.Is(err, client.ErrNotLoggedIn):
		return "logged out", false
	case errors.Is(err, client.ErrSessionInvalid):
		return "logged out (the server had already ended the session)", false
	}
	if _, ok := networkError(err); ok || errors.Is(err, context.DeadlineExceeded) {
		return "logged out locally; the server could not be reached", true
	}
	return fmt.Sprintf("logged out locally; %s", errorText(err, "")), true
}

// transient reports whether err is worth trying again later, as auto-refresh
// does: the server could not be reached, did not answer in time, or failed
// (5xx). A refresh the server refused (4xx) is not.
func transient(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var apiErr *client.APIError
	if errors.As(err, &apiErr) {
		return apiErr.Status >= 500
	}
	_, ok := networkError(err)
	return ok
}

// backoff is how long auto-refresh waits before its n-th retry (n from 0):
// first, doubled each time up to most.
type backoff struct {
	first, most time.Duration
}

var defaultBackoff = backoff{first: time.Second, most: 30 * time.Second}

func (b backoff) delay(n int) time.Duration {
	d := b.first
	for i := 0; i < n && d < b.most; i++ {
		d *= 2
	}
	return min(d, b.most)
}
