package tui

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/dyor-exchange/dyorctl/client"
)

func TestMain(m *testing.M) {
	// The app draws with its own renderer; this fixes the global one too,
	// in case anything falls back to it.
	lipgloss.SetColorProfile(termenv.Ascii)
	os.Exit(m.Run())
}

// fixedNow is the clock of the deterministic tests: whole seconds, so that
// token expiries (whole seconds) give round countdowns.
var fixedNow = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

const testServer = "http://127.0.0.1:8080"

// asciiRenderer draws without colours or attributes: the fixed profile of
// the golden files.
func asciiRenderer() *lipgloss.Renderer {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.Ascii)
	return r
}

// testDeps are deps for screen tests: no store (their commands are not
// run), a fixed clock, no colours.
func testDeps(now time.Time) deps {
	return deps{
		ctx:       context.Background(),
		server:    testServer,
		newClient: func(string, client.TokenStore) (*client.Client, error) { return nil, errNoClient },
		now:       func() time.Time { return now },
		timeout:   time.Second,
		backoff:   defaultBackoff,
		styles:    newStyles(asciiRenderer()),
	}
}

// testSession is a session as the dashboard shows it at
// fixedNow: "access expires in 14m 32s", "refresh expires in 6d 23h 59m".
func testSession() session {
	exp := fixedNow.Add(14*time.Minute + 32*time.Second)
	return session{
		Server:           testServer,
		Username:         "john@API",
		SessionID:        "9d1c5e2a7b3f4e6d8c0a1b2c3d4e5f60",
		AccessIssuedAt:   exp.Add(-15 * time.Minute),
		AccessExpiresAt:  exp,
		RefreshExpiresAt: fixedNow.Add(6*24*time.Hour + 23*time.Hour + 59*time.Minute + 30*time.Second),
	}
}

// keyMsg is the key named as bubbletea names it ("enter", "shift+tab",
// "ctrl+c", …), or text.
func keyMsg(k string) tea.KeyMsg {
	special := map[string]tea.KeyType{
		"enter": tea.KeyEnter, "tab": tea.KeyTab, "shift+tab": tea.KeyShiftTab,
		"esc": tea.KeyEsc, "up": tea.KeyUp, "down": tea.KeyDown,
		"ctrl+c": tea.KeyCtrlC, "ctrl+u": tea.KeyCtrlU, "backspace": tea.KeyBackspace,
	}
	if t, ok := special[k]; ok {
		return tea.KeyMsg{Type: t}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
}

// isQuit reports whether cmd is tea.Quit.
func isQuit(cmd tea.Cmd) bool {
	if cmd == nil {
		return false
	}
	_, ok := cmd().(tea.QuitMsg)
	return ok
}

// checkFits fails when view does not fit in width×height.
func checkFits(t *testing.T, view string, width, height int) {
	t.Helper()
	lines := strings.Split(view, "\n")
	if height > 0 && len(lines) > height {
		t.Errorf("view has %d lines, more than %d:\n%s", len(lines), height, view)
	}
	for _, l := range lines {
		if w := lipgloss.Width(l); w > width {
			t.Errorf("line %q is %d columns wide, more than %d", l, w, width)
		}
	}
}
