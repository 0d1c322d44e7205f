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
		to       navigation
		quit     bool
		fullHelp bool
	}{
		{name: "starts on log in", keys: nil, cursor: choiceLogin},
		{name: "down", keys: []string{"down"}, cursor: choiceRegister},
		{name: "j", keys: []string{"j"}, cursor: choiceRegister},
		{name: "stops at the bottom", keys: []string{"j", "j", "j", "down"}, cursor: choiceQuit},
		{name: "stops at the top", keys: []string{"k", "up"}, cursor: choiceLogin},
		{name: "k", keys: []string{"j", "j", "k"}, cursor: choiceRegister},
		{name: "enter log in", keys: []string{"enter"}, cursor: choiceLogin, to: toForm{kind: loginForm}},
		{name: "enter register", keys: []string{"j", "enter"}, cursor: choiceRegister, to: toForm{kind: registerForm}},
		{name: "enter quit", keys: []string{"j", "j", "enter"}, cursor: choiceQuit, quit: true},
		{name: "q", keys: []string{"q"}, cursor: choiceLogin, quit: true},
		{name: "? opens help", keys: []string{"?"}, fullHelp: true},
		{name: "? again closes it", keys: []string{"?", "?"}},
		{name: "other keys do nothing", keys: []string{"x", "tab", "esc"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newMenu(testDeps(fixedNow))
			m.show("", false)
			quit := false
			var to navigation
			for _, k := range tt.keys {
				var cmd tea.Cmd
				cmd, to = m.update(keyMsg(k))
				quit = quit || isQuit(cmd)
			}
			if m.cursor != tt.cursor {
				t.Errorf("cursor = %d, want %d", m.cursor, tt.cursor)
			}
			if to != tt.to {
				t.Errorf("to = %#v, want %#v", to, tt.to)
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
	m := newMenu(testDeps(fixedNow))
	m.show("", false)
	m.update(keyMsg("j"))
	m.show("logged out", false)
	if m.cursor != choiceLogin || m.note != "logged out" {
		t.Fatalf("after show: cursor %d, note %q", m.cursor, m.note)
	}
	if v := m.view(80, 0); !strings.Contains(v, "> Log in") || !strings.Contains(v, "✓ logged out") {
		t.Errorf("view:\n%s", v)
	}
}
