package tui

import (
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/progress"
	"github.com/charmbracelet/bubbles/spinner"
	"github.com/charmbracelet/bubbles/table"
	"github.com/charmbracelet/bubbles/textinput"
	"github.com/charmbracelet/lipgloss"
)

// styles are every style of the app, made by one renderer. The renderer is
// bound to the app's output and reads the environment, so NO_COLOR or an
// output that is not a terminal turns colours off everywhere — including in
// the bubbles components, whose default styles would use lipgloss's global
// renderer instead. Fixed ANSI colours only: adaptive colours would make the
// renderer query the terminal's background while the program owns it.
//
// Nothing relies on colour alone: the selected item and the focused field have
// a "> " marker, errors start with "✗", notes with "✓", the lifetime bars are
// drawn with two characters.
type styles struct {
	renderer *lipgloss.Renderer

	banner    lipgloss.Style
	title     lipgloss.Style
	label     lipgloss.Style
	value     lipgloss.Style
	selected  lipgloss.Style
	item      lipgloss.Style
	errorText lipgloss.Style
	noteText  lipgloss.Style
	muted     lipgloss.Style

	help  help.Styles
	table table.Styles
}

// Colours: the 16 ANSI colours, which every colour terminal has and themes.
const (
	colourAccent = lipgloss.Color("12") // bright blue
	colourError  = lipgloss.Color("9")  // bright red
	colourOK     = lipgloss.Color("10") // bright green
	colourMuted  = lipgloss.Color("8")  // grey
	colourBanner = lipgloss.Color("11") // bright yellow
	colourLow    = lipgloss.Color("11") // bright yellow: a token near its end
)

func newStyles(r *lipgloss.Renderer) *styles {
	key := r.NewStyle().Foreground(colourAccent)
	desc := r.NewStyle().Foreground(colourMuted)
	return &styles{
		renderer:  r,
		banner:    r.NewStyle().Foreground(colourBanner),
		title:     r.NewStyle().Bold(true).Foreground(colourAccent),
		label:     r.NewStyle().Foreground(colourMuted),
		value:     r.NewStyle(),
		selected:  r.NewStyle().Bold(true).Foreground(colourAccent),
		item:      r.NewStyle(),
		errorText: r.NewStyle().Foreground(colourError),
		noteText:  r.NewStyle().Foreground(colourOK),
		muted:     r.NewStyle().Foreground(colourMuted),
		table: table.Styles{
			Header:   r.NewStyle().Foreground(colourMuted).PaddingRight(1),
			Cell:     r.NewStyle().PaddingRight(1),
			Selected: r.NewStyle().Bold(true).Foreground(colourAccent),
		},
		help: help.Styles{
			Ellipsis:       desc,
			ShortKey:       key,
			ShortDesc:      desc,
			ShortSeparator: desc,
			FullKey:        key,
			FullDesc:       desc,
			FullSeparator:  desc,
		},
	}
}

// newHelp returns a help model drawn with s.
func (s *styles) newHelp() help.Model {
	h := help.New()
	h.Styles = s.help
	return h
}

// newBar returns a lifetime bar drawn with s's colour profile: no colour
// under NO_COLOR, where the filled part (█) and the rest (░) still differ.
func (s *styles) newBar() progress.Model {
	bar := progress.New(
		progress.WithoutPercentage(),
		progress.WithSolidFill(string(colourOK)),
		progress.WithColorProfile(s.renderer.ColorProfile()),
	)
	bar.EmptyColor = string(colourMuted)
	return bar
}

// barView draws bar width columns wide, left filled, in the "low" colour
// when low.
func (s *styles) barView(bar progress.Model, width int, left float64, low bool) string {
	bar.Width = width
	if low {
		bar.FullColor = string(colourLow)
	}
	return bar.ViewAs(left)
}

// newSpinner returns a spinner drawn with s.
func (s *styles) newSpinner() spinner.Model {
	return spinner.New(spinner.WithSpinner(spinner.Dot), spinner.WithStyle(s.renderer.NewStyle().Foreground(colourAccent)))
}

// newInput returns a text input drawn with s; the label is drawn by the form.
func (s *styles) newInput() textinput.Model {
	in := textinput.New()
	in.Prompt = ""
	in.PromptStyle = s.renderer.NewStyle()
	in.TextStyle = s.renderer.NewStyle()
	in.PlaceholderStyle = s.muted
	in.CompletionStyle = s.muted
	in.Cursor.Style = s.renderer.NewStyle()
	in.Cursor.TextStyle = s.renderer.NewStyle()
	return in
}
