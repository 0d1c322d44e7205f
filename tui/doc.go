// Package tui is dyorctl's interactive terminal app (DESIGN.md §3), built with
// bubbletea v1 and bubbles on package client.
//
// The app has four screens, each in its own file with its own model:
//
//   - menu.go: not logged in — Log in · Register · Quit;
//   - form.go: the login and register forms (one model, parameterised by kind);
//   - dashboard.go: logged in — username, server, session id, live countdowns of
//     the access and refresh tokens' expiry, refresh, logout and auto-refresh.
//
// model.go holds the root model. It routes: global keys (Ctrl-C) and the window
// size first, then navigation between screens, then the active screen only.
// Network calls run as tea.Cmds that capture what they need in their closure
// and return one named message per result (messages.go); the UI never blocks.
//
// The app uses the *client.Client it is given, and so the same credential store
// as the CLI: a login in the app is seen by "dyorctl status", and a stored valid
// session opens the dashboard at start.
//
// Nothing on screen ever shows a password or a token: password fields are
// masked, and the dashboard shows the session id (the "sid" claim) only.
// Colours come from a lipgloss renderer bound to the output, so NO_COLOR (and a
// non-terminal output) turn them off; the layout never depends on colour alone.
package tui
