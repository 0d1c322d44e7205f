// Package tui is dyorctl's interactive terminal app, built with bubbletea v1
// and bubbles on packages client and credstore.
//
// Each screen is a component (nav.go), in a file of its own:
//
//   - accounts.go: every stored account of every server in a table (server,
//     username, the active mark, when the access and refresh tokens expire,
//     valid or expired); Enter opens one's dashboard and makes it its
//     server's active account, as "dyorctl switch" does; d logs it out after
//     a question (the server revokes the session, then the account is
//     removed); n logs in to another; / filters;
//   - menu.go: no account stored — Log in · Register · Quit;
//   - form.go: the login and register forms (one model, parameterised by
//     kind), each with a Server field checked by client.NormalizeBaseURL,
//     the CLI's own rule;
//   - dashboard.go: a session — username, server, session id, the tokens'
//     countdowns with a lifetime bar each (another colour within the
//     refresh margin), refresh, logout, auto-refresh, and the history of the
//     run's events in a scrollable pane. Auto-refresh retries a failure that
//     may pass (network, 5xx) with back-off and never logs out for it; a
//     session the server no longer accepts leads to the login form, filled
//     in, saying why.
//
// The app opens on the accounts screen when more than one account is stored,
// on the dashboard when one valid account is, on the menu when none is.
//
// model.go holds the root model. It routes by a typed state (nav.go): global
// keys (Ctrl-C) and the window size first, then the stored accounts it asked
// for, then every other message to the active screen only. A screen's update
// returns where to go next as a navigation, a sealed interface the root
// opens at once. Network and file work run as tea.Cmds that capture what they
// need in their closure and return one named message per result
// (messages.go); the UI never blocks. Every key is a key.Binding of its
// screen's key map (keys.go), and both helps are drawn from the map.
//
// The app uses the AccountStore it is given: the CLI's credentials file, so a
// login in the app is seen by "dyorctl status" and the other way round; or,
// for the demo, the one client it is given, in memory.
//
// Nothing on screen ever shows a password or a token: password fields are
// masked, the tokens never leave the store and the client, and the screens
// show the session id (the "sid" claim) only. Names, session ids and
// messages, which a server or the store wrote, go through safetext before
// they are drawn. Colours come from a lipgloss renderer bound to the output,
// so NO_COLOR (and a non-terminal output) turn them off, the bars included;
// the layout never depends on colour alone.
package tui
