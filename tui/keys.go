package tui

import "github.com/charmbracelet/bubbles/key"

// quitKey is the one key that quits from every screen; the root model handles
// it before any screen sees the message.
var quitKey = key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit"))

// menuKeyMap is the menu's keys.
type menuKeyMap struct {
	Up, Down, Choose, Help, Quit key.Binding
}

func newMenuKeyMap() menuKeyMap {
	return menuKeyMap{
		Up:     key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:   key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		Choose: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "choose")),
		Help:   key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "more")),
		Quit:   key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
	}
}

// ShortHelp is ordered by importance: at 40 columns the last ones are cut.
func (k menuKeyMap) ShortHelp() []key.Binding {
	move := key.NewBinding(key.WithKeys("up", "down", "k", "j"), key.WithHelp("↑↓", "move"))
	return []key.Binding{move, k.Choose, k.Quit, k.Help}
}

func (k menuKeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.Choose},
		{k.Quit, quitKey, key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "close this help"))},
	}
}

// formKeyMap is the keys of the login and register forms. Every other key is
// text for the focused field, q included.
type formKeyMap struct {
	Next, Prev, Submit, Back, Quit key.Binding
}

func newFormKeyMap() formKeyMap {
	return formKeyMap{
		Next:   key.NewBinding(key.WithKeys("tab", "down"), key.WithHelp("tab", "next")),
		Prev:   key.NewBinding(key.WithKeys("shift+tab", "up"), key.WithHelp("shift+tab", "previous")),
		Submit: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "submit")),
		Back:   key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Quit:   quitKey,
	}
}

// ShortHelp is ordered by importance: at 40 columns the last ones are cut.
func (k formKeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Submit, k.Back, k.Next, k.Prev, k.Quit}
}

func (k formKeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Submit, k.Back, k.Quit}, {k.Next, k.Prev}}
}

// dashboardKeyMap is the dashboard's keys.
type dashboardKeyMap struct {
	Refresh, Logout, Auto, Help, Quit key.Binding
}

func newDashboardKeyMap() dashboardKeyMap {
	return dashboardKeyMap{
		Refresh: key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "refresh")),
		Logout:  key.NewBinding(key.WithKeys("l"), key.WithHelp("l", "logout")),
		Auto:    key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "auto-refresh")),
		Help:    key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "more")),
		Quit:    key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
	}
}

// ShortHelp is ordered by importance: at 40 columns the last ones are cut.
func (k dashboardKeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Refresh, k.Logout, k.Quit, k.Help, k.Auto}
}

// FullHelp lists every key of the dashboard, with longer descriptions.
func (k dashboardKeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{
			key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "refresh the session now")),
			key.NewBinding(key.WithKeys("l"), key.WithHelp("l", "log out")),
			key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "toggle auto-refresh")),
		},
		{
			key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "close this help")),
			key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
			quitKey,
		},
	}
}
