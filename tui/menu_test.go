package tui

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

func TestMenuUpdate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		keys     []string
		cursor   menuChoice
		goTo     any
		quit     bool
		fullHelp bool
	}{
		{name: "starts on log in", keys: nil, cursor: choiceLogin},
		{name: "down", keys: []string{"down"}, cursor: choiceRegister},
		{name: "j", keys: []string{"j"}, cursor: choiceRegister},
		{name: "stops at the bottom", keys: []string{"j", "j", "j", "down"}, cursor: choiceQuit},
		{name: "stops at the top", keys: []string{"k", "up"}, cursor: choiceLogin},
		{name: "k", keys: []string{"j", "j", "k"}, cursor: choiceRegister},
		{name: "enter log in", keys: []string{"enter"}, cursor: choiceLogin, goTo: toForm{kind: loginForm}},
		{name: "enter register", keys: []string{"j", "enter"}, cursor: choiceRegister, goTo: toForm{kind: registerForm}},
		{name: "enter quit", keys: []string{"j", "j", "enter"}, cursor: choiceQuit, quit: true},
		{name: "q", keys: []string{"q"}, cursor: choiceLogin, quit: true},
		{name: "? opens help", keys: []string{"?"}, fullHelp: true},
		{name: "? again closes it", keys: []string{"?", "?"}},
		{name: "other keys do nothing", keys: []string{"x", "tab", "esc"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newMenu(testDeps(fixedNow)).show("", false)
			quit := false
			for _, k := range tt.keys {
				var cmd tea.Cmd
				m, cmd = m.update(keyMsg(k))
				quit = quit || isQuit(cmd)
			}
			if m.cursor != tt.cursor {
				t.Errorf("cursor = %d, want %d", m.cursor, tt.cursor)
			}
			if m.goTo != tt.goTo {
				t.Errorf("goTo = %#v, want %#v", m.goTo, tt.goTo)
			}
			if quit != tt.quit {
				t.Errorf("quit = %v, want %v", quit, tt.quit)
			}
			if m.fullHelp != tt.fullHelp {
				t.Errorf("fullHelp = %v, want %v", m.fullHelp, tt.fullHelp)
			}
		})
	}
}

func TestMenuShowResets(t *testing.T) {
	t.Parallel()
	m := newMenu(testDeps(fixedNow)).show("", false)
	m, _ = m.update(keyMsg("j"))
	m = m.show("logged out", false)
	if m.cursor != choiceLogin || m.note != "logged out" {
		t.Fatalf("after show: cursor %d, note %q", m.cursor, m.note)
	}
	if v := m.view(80); !strings.Contains(v, "> Log in") || !strings.Contains(v, "✓ logged out") {
		t.Errorf("view:\n%s", v)
	}
}
