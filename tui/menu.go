package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// menuChoice is an item of the menu, in the order shown.
type menuChoice int

const (
	choiceLogin menuChoice = iota
	choiceRegister
	choiceQuit
)

var menuLabels = [...]string{
	choiceLogin:    "Log in",
	choiceRegister: "Register",
	choiceQuit:     "Quit",
}

// menuModel is the screen shown when not logged in.
type menuModel struct {
	styles *styles
	keys   menuKeyMap

	cursor      menuChoice
	note        string // what happened last, e.g. "logged out"
	noteIsError bool
	fullHelp    bool
}

func newMenu(d deps) *menuModel {
	return &menuModel{styles: d.styles, keys: newMenuKeyMap()}
}

// show makes the menu as it is when shown anew: cursor on "Log in", with
// note below the items.
func (m *menuModel) show(note string, isError bool) {
	m.cursor = choiceLogin
	m.note, m.noteIsError = note, isError
	m.fullHelp = false
}

func (m *menuModel) setSize(width, height int) {}

func (m *menuModel) update(msg tea.Msg) (tea.Cmd, navigation) {
	km, ok := msg.(tea.KeyMsg)
	if !ok {
		return nil, nil
	}
	switch {
	case key.Matches(km, m.keys.Up):
		if m.cursor > choiceLogin {
			m.cursor--
		}
	case key.Matches(km, m.keys.Down):
		if m.cursor < choiceQuit {
			m.cursor++
		}
	case key.Matches(km, m.keys.Choose):
		switch m.cursor {
		case choiceLogin:
			return nil, toForm{kind: loginForm}
		case choiceRegister:
			return nil, toForm{kind: registerForm}
		case choiceQuit:
			return tea.Quit, nil
		}
	case key.Matches(km, m.keys.Help):
		m.fullHelp = !m.fullHelp
	case key.Matches(km, m.keys.Quit):
		return tea.Quit, nil
	}
	return nil, nil
}

func (m *menuModel) title() string { return "not logged in" }

func (m *menuModel) helpKeys() (help.KeyMap, bool) { return m.keys, m.fullHelp }

func (m *menuModel) view(width, height int) string {
	var b strings.Builder
	for i, label := range menuLabels {
		if menuChoice(i) == m.cursor {
			b.WriteString("  " + m.styles.selected.Render("> "+label))
		} else {
			b.WriteString("    " + m.styles.item.Render(label))
		}
		b.WriteByte('\n')
	}
	if m.note != "" {
		b.WriteByte('\n')
		b.WriteString(statusLine(m.styles, width, m.note, m.noteIsError))
		b.WriteByte('\n')
	}
	return b.String()
}
