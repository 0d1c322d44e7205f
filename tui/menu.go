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

	goTo any // toMenu, toForm or toDashboard: the screen to show next
}

func newMenu(d deps) menuModel {
	return menuModel{styles: d.styles, keys: newMenuKeyMap()}
}

// show returns the menu as it is when shown anew: cursor on "Log in", with
// note below the items.
func (m menuModel) show(note string, isError bool) menuModel {
	m.cursor = choiceLogin
	m.note, m.noteIsError = note, isError
	return m
}

func (m menuModel) update(msg tea.Msg) (menuModel, tea.Cmd) {
	km, ok := msg.(tea.KeyMsg)
	if !ok {
		return m, nil
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
			m.goTo = toForm{kind: loginForm}
		case choiceRegister:
			m.goTo = toForm{kind: registerForm}
		case choiceQuit:
			return m, tea.Quit
		}
	case key.Matches(km, m.keys.Help):
		m.fullHelp = !m.fullHelp
	case key.Matches(km, m.keys.Quit):
		return m, tea.Quit
	}
	return m, nil
}

func (m menuModel) title() string { return "not logged in" }

func (m menuModel) helpKeys() (help.KeyMap, bool) { return m.keys, m.fullHelp }

func (m menuModel) view(width int) string {
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
