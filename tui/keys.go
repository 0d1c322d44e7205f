package tui

import (
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/table"
	"github.com/charmbracelet/bubbles/viewport"
)

// Every key of every screen is a key.Binding in that screen's key map, and
// both helps are built from the map: ShortHelp (one line) and FullHelp (the
// "?" help, every key). Handling a key and listing it are one thing, so a
// key cannot work without being in the help.

// quitKey is the one key that quits from every screen; the root model handles
// it before any screen sees the message.
var quitKey = key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit"))

// Bindings that several screens share.
func quitQKey() key.Binding {
	return key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit"))
}

func helpKey() key.Binding {
	return key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "more"))
}

// menuKeyMap is the menu's keys.
type menuKeyMap struct {
	Up, Down, Choose, Help, Quit key.Binding
}

func newMenuKeyMap() menuKeyMap {
	return menuKeyMap{
		Up:     key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:   key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		Choose: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "choose")),
		Help:   helpKey(),
		Quit:   quitQKey(),
	}
}

// ShortHelp is ordered by importance: on a narrow screen the last ones are
// cut.
func (k menuKeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Up, k.Down, k.Choose, k.Quit, k.Help}
}

// FullHelp is every key of the menu.
func (k menuKeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Up, k.Down, k.Choose}, {k.Help, k.Quit, quitKey}}
}

// formKeyMap is the keys of the login and register forms. Every other key is
// text for the focused field, q and ? included; so the forms always show
// their full help.
type formKeyMap struct {
	Next, Prev, Submit, Back, Quit key.Binding
}

func newFormKeyMap() formKeyMap {
	return formKeyMap{
		Next:   key.NewBinding(key.WithKeys("tab", "down"), key.WithHelp("tab/↓", "next field")),
		Prev:   key.NewBinding(key.WithKeys("shift+tab", "up"), key.WithHelp("shift+tab/↑", "previous")),
		Submit: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "submit")),
		Back:   key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Quit:   quitKey,
	}
}

// ShortHelp is ordered by importance.
func (k formKeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Submit, k.Back, k.Next, k.Prev, k.Quit}
}

// FullHelp is every key of the forms.
func (k formKeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Submit, k.Back, k.Quit}, {k.Next, k.Prev}}
}

// accountsKeyMap is the keys of the accounts screen; Table moves the cursor
// (its half-page keys are off: d logs out here).
type accountsKeyMap struct {
	Table                     table.KeyMap
	Open, Logout, New, Filter key.Binding
	Yes, No                   key.Binding // answer the logout question
	FilterDone, FilterClear   key.Binding // while the filter is typed
	Help, Quit                key.Binding
}

func newAccountsKeyMap() accountsKeyMap {
	off := key.NewBinding(key.WithDisabled())
	return accountsKeyMap{
		Table: table.KeyMap{
			LineUp:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
			LineDown:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
			PageUp:       key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "page up")),
			PageDown:     key.NewBinding(key.WithKeys("pgdown"), key.WithHelp("pgdn", "page down")),
			HalfPageUp:   off,
			HalfPageDown: off,
			GotoTop:      key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("g/home", "first")),
			GotoBottom:   key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("G/end", "last")),
		},
		Open:        key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open")),
		Logout:      key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "log out")),
		New:         key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "new login")),
		Filter:      key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Yes:         key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "yes, log out")),
		No:          key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "no")),
		FilterDone:  key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "keep the filter")),
		FilterClear: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear the filter")),
		Help:        helpKey(),
		Quit:        quitQKey(),
	}
}

// ShortHelp is ordered by importance.
func (k accountsKeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Open, k.Logout, k.New, k.Filter, k.Quit, k.Help}
}

// FullHelp is every key of the accounts screen.
func (k accountsKeyMap) FullHelp() [][]key.Binding {
	t := k.Table
	return [][]key.Binding{
		{k.Open, k.Logout, k.New, k.Filter},
		{t.LineUp, t.LineDown, t.PageUp, t.PageDown, t.GotoTop, t.GotoBottom},
		{k.Yes, k.No, k.FilterDone, k.FilterClear, k.Help, k.Quit, quitKey},
	}
}

// confirmKeys is the help while the logout question is asked.
type confirmKeys struct{ accountsKeyMap }

func (k confirmKeys) ShortHelp() []key.Binding { return []key.Binding{k.Yes, k.No, quitKey} }

// filterKeys is the help while the filter is typed: every other key is text.
type filterKeys struct{ accountsKeyMap }

func (k filterKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.FilterDone, k.FilterClear, quitKey}
}

// dashboardKeyMap is the dashboard's keys; Scroll moves the history.
type dashboardKeyMap struct {
	Refresh, Logout, Auto, Back key.Binding
	Scroll                      viewport.KeyMap
	Help, Quit                  key.Binding
}

func newDashboardKeyMap() dashboardKeyMap {
	off := key.NewBinding(key.WithDisabled())
	return dashboardKeyMap{
		Refresh: key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "refresh")),
		Logout:  key.NewBinding(key.WithKeys("l"), key.WithHelp("l", "log out")),
		Auto:    key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "auto-refresh")),
		Back:    key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "accounts")),
		Scroll: viewport.KeyMap{
			Up:           key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "history up")),
			Down:         key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "history down")),
			PageUp:       key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "history page up")),
			PageDown:     key.NewBinding(key.WithKeys("pgdown"), key.WithHelp("pgdn", "history page down")),
			HalfPageUp:   off,
			HalfPageDown: off,
			Left:         off,
			Right:        off,
		},
		Help: helpKey(),
		Quit: quitQKey(),
	}
}

// ShortHelp is ordered by importance.
func (k dashboardKeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Refresh, k.Logout, k.Auto, k.Back, k.Quit, k.Help}
}

// FullHelp is every key of the dashboard.
func (k dashboardKeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Refresh, k.Logout, k.Auto, k.Back},
		{k.Scroll.Up, k.Scroll.Down, k.Scroll.PageUp, k.Scroll.PageDown},
		{k.Help, k.Quit, quitKey},
	}
}
