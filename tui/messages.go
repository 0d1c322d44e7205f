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
	Username         string
	SessionID        string
	AccessIssuedAt   time.Time
	AccessExpiresAt  time.Time
	RefreshExpiresAt time.Time
}

func sessionOf(t client.Tokens) session {
	return session{
		Username:         t.Username,
		SessionID:        t.SessionID,
		AccessIssuedAt:   t.AccessIssuedAt,
		AccessExpiresAt:  t.AccessExpiresAt,
		RefreshExpiresAt: t.RefreshExpiresAt,
	}
}

// valid reports whether the session can still be refreshed at now (a "valid
// session" of DESIGN.md §2: the refresh token has not expired).
func (s session) valid(now time.Time) bool {
	return now.Before(s.RefreshExpiresAt)
}

// Results of the commands: one message type per kind of result, errors
// included.
type (
	// storedSessionMsg is the stored session found at start.
	storedSessionMsg struct {
		session session
		err     error
	}
	loginResultMsg struct {
		session session
		err     error
	}
	registerResultMsg struct {
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
)

// Navigation between screens: a screen's update puts one in its goTo field,
// and the root model switches screens at once, in the same update, so that no
// key typed meanwhile reaches the screen being left.
type (
	toMenu struct {
		note    string
		isError bool
	}
	toForm struct {
		kind     formKind
		username string // filled in
		note     string
	}
	toDashboard struct {
		session session
		note    string
	}
)

// deps are what the screens share: how to reach the server, and how to draw.
// The commands capture from it the values they need when they are made.
type deps struct {
	ctx     context.Context
	client  *client.Client
	server  string
	now     func() time.Time
	timeout time.Duration // of each request
	styles  *styles
}

var errNoClient = errors.New("tui: Options.Client is nil")

// loadSessionCmd reads the stored session (no network).
func loadSessionCmd(d deps) tea.Cmd {
	ctx, c := d.ctx, d.client
	return func() tea.Msg {
		if c == nil {
			return storedSessionMsg{err: errNoClient}
		}
		t, err := c.Tokens(ctx)
		return storedSessionMsg{session: sessionOf(t), err: err}
	}
}

func loginCmd(d deps, username, password string) tea.Cmd {
	ctx, c, timeout := d.ctx, d.client, d.timeout
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		t, err := c.Login(ctx, username, password)
		return loginResultMsg{session: sessionOf(t), err: err}
	}
}

func registerCmd(d deps, username, password string) tea.Cmd {
	ctx, c, timeout := d.ctx, d.client, d.timeout
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		return registerResultMsg{username: username, err: c.Register(ctx, username, password)}
	}
}

func refreshCmd(d deps, auto bool) tea.Cmd {
	ctx, c, timeout := d.ctx, d.client, d.timeout
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		t, err := c.Refresh(ctx)
		return refreshResultMsg{session: sessionOf(t), auto: auto, err: err}
	}
}

func logoutCmd(d deps) tea.Cmd {
	ctx, c, timeout := d.ctx, d.client, d.timeout
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
