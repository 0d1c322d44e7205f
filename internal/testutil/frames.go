package testutil

import (
	"sync"

	tea "github.com/charmbracelet/bubbletea"
)

// A Frame is one view a bubbletea program drew, with the window size it
// was drawn for.
type Frame struct {
	Width, Height int
	View          string
}

// Frames wraps a bubbletea model and keeps every frame it draws, for tests
// that read the screen while teatest runs the program (View and the test
// run on different goroutines, hence the lock).
type Frames struct {
	tea.Model
	mu            sync.Mutex
	width, height int
	frames        []Frame
}

// NewFrames returns m, recording.
func NewFrames(m tea.Model) *Frames { return &Frames{Model: m} }

// Update passes msg on, noting the window size.
func (r *Frames) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if ws, ok := msg.(tea.WindowSizeMsg); ok {
		r.mu.Lock()
		r.width, r.height = ws.Width, ws.Height
		r.mu.Unlock()
	}
	next, cmd := r.Model.Update(msg)
	r.Model = next
	return r, cmd
}

// View draws the model's view and keeps it.
func (r *Frames) View() string {
	v := r.Model.View()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.frames = append(r.frames, Frame{r.width, r.height, v})
	return v
}

// Last is the latest frame's view ("" before the first).
func (r *Frames) Last() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.frames) == 0 {
		return ""
	}
	return r.frames[len(r.frames)-1].View
}

// All returns every frame drawn so far, oldest first.
func (r *Frames) All() []Frame {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Frame(nil), r.frames...)
}
