package tui

import (
	"errors"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/dyor-exchange/dyorctl/api"
	"github.com/dyor-exchange/dyorctl/client"
)

// formKind says which form a formModel is.
type formKind int

const (
	loginForm formKind = iota
	registerForm
)

// The fields, in order; the register form has all three.
const (
	fieldUsername = iota
	fieldPassword
	fieldConfirm
)

// labelWidth is the width of the label column: "Confirm password" and a gap.
const labelWidth = len("Confirm password") + 2

// formModel is the login form or the register form.
type formModel struct {
	deps    deps
	kind    formKind
	keys    formKeyMap
	labels  []string
	inputs  []textinput.Model
	focus   int
	spinner spinner.Model

	busy      bool   // a request runs: input is ignored
	submitted string // the username of the request that runs or ran last
	err       string // the rule broken, or the server's answer, in words
	note      string // e.g. "account created, log in"
	width     int

	goTo any // toMenu, toForm or toDashboard: the screen to show next
}

func newForm(d deps, kind formKind) formModel {
	labels := []string{"Username", "Password"}
	if kind == registerForm {
		labels = append(labels, "Confirm password")
	}
	inputs := make([]textinput.Model, len(labels))
	for i := range inputs {
		in := d.styles.newInput()
		if i != fieldUsername {
			in.EchoMode = textinput.EchoPassword
			in.EchoCharacter = '*'
		}
		inputs[i] = in
	}
	m := formModel{
		deps:    d,
		kind:    kind,
		keys:    newFormKeyMap(),
		labels:  labels,
		inputs:  inputs,
		spinner: d.styles.newSpinner(),
	}
	return m.setWidth(defaultWidth)
}

// show returns the form as it is when shown anew: empty but for username,
// with note under it, and the focus on the first empty field.
func (m formModel) show(username, note string) (formModel, tea.Cmd) {
	m = m.reset()
	m.note = note
	m.inputs[fieldUsername].SetValue(username)
	focus := fieldUsername
	if username != "" {
		focus = fieldPassword
	}
	return m.focusOn(focus)
}

// reset clears the form (Esc, and after a success).
func (m formModel) reset() formModel {
	for i := range m.inputs {
		m.inputs[i].Reset()
		m.inputs[i].Blur()
	}
	m.focus = fieldUsername
	m.busy = false
	m.submitted, m.err, m.note = "", "", ""
	return m
}

// setWidth fits the inputs to a screen width columns wide.
func (m formModel) setWidth(width int) formModel {
	m.width = width
	// "  > " + label column + input + cursor
	w := max(width-4-labelWidth-1, 4)
	for i := range m.inputs {
		m.inputs[i].Width = w
	}
	return m
}

func (m formModel) focusOn(field int) (formModel, tea.Cmd) {
	m.inputs[m.focus].Blur()
	m.focus = field
	return m, m.inputs[field].Focus()
}

func (m formModel) update(msg tea.Msg) (formModel, tea.Cmd) {
	switch msg := msg.(type) {
	case loginResultMsg:
		if m.kind != loginForm || !m.busy {
			return m, nil
		}
		m.busy = false
		if msg.err != nil {
			return m.failed(msg.err)
		}
		m = m.reset()
		m.goTo = toDashboard{session: msg.session}
		return m, nil

	case registerResultMsg:
		if m.kind != registerForm || !m.busy {
			return m, nil
		}
		m.busy = false
		if msg.err != nil {
			return m.failed(msg.err)
		}
		m = m.reset()
		m.goTo = toForm{kind: loginForm, username: msg.username, note: "account created, log in"}
		return m, nil

	case spinner.TickMsg:
		if !m.busy {
			return m, nil // the spinner stops
		}
		var cmd tea.Cmd
		m.spinner, cmd = m.spinner.Update(msg)
		return m, cmd

	case tea.KeyMsg:
		if m.busy {
			return m, nil
		}
		switch {
		case key.Matches(msg, m.keys.Back):
			m = m.reset()
			m.goTo = toMenu{}
			return m, nil
		case key.Matches(msg, m.keys.Next):
			return m.focusOn((m.focus + 1) % len(m.inputs))
		case key.Matches(msg, m.keys.Prev):
			return m.focusOn((m.focus + len(m.inputs) - 1) % len(m.inputs))
		case key.Matches(msg, m.keys.Submit):
			return m.submit()
		}
		before := m.inputs[m.focus].Value()
		var cmd tea.Cmd
		m.inputs[m.focus], cmd = m.inputs[m.focus].Update(msg)
		if m.inputs[m.focus].Value() != before {
			m.err, m.note = "", "" // about a value that is no more
		}
		return m, cmd
	}
	// The cursor's blinking, and the like.
	var cmd tea.Cmd
	m.inputs[m.focus], cmd = m.inputs[m.focus].Update(msg)
	return m, cmd
}

// submit checks the input rules and sends the request.
func (m formModel) submit() (formModel, tea.Cmd) {
	if field, problem := m.check(); problem != "" {
		m.err, m.note = problem, ""
		return m.focusOn(field)
	}
	username := m.inputs[fieldUsername].Value()
	password := m.inputs[fieldPassword].Value()
	m.busy, m.submitted, m.err, m.note = true, username, "", ""
	request := loginCmd(m.deps, username, password)
	if m.kind == registerForm {
		request = registerCmd(m.deps, username, password)
	}
	return m, tea.Batch(request, m.spinner.Tick)
}

// check returns the first field that breaks an input rule, and the rule.
func (m formModel) check() (field int, problem string) {
	if p := checkUsername(m.inputs[fieldUsername].Value()); p != "" {
		return fieldUsername, p
	}
	if p := checkPassword(m.inputs[fieldPassword].Value()); p != "" {
		return fieldPassword, p
	}
	if m.kind == registerForm && m.inputs[fieldConfirm].Value() != m.inputs[fieldPassword].Value() {
		return fieldConfirm, "the passwords do not match"
	}
	return 0, ""
}

// checkUsername and checkPassword apply the contract's input rules
// (package api) before anything is sent; "" means the value is good.
func checkUsername(u string) string {
	if u == "" {
		return "enter a username"
	}
	if err := api.CheckUsername(u); err != nil {
		return err.Error()
	}
	return ""
}

func checkPassword(p string) string {
	if p == "" {
		return "enter a password"
	}
	if err := api.CheckPassword(p); err != nil {
		return err.Error()
	}
	return ""
}

// failed shows err and puts the focus where the user can fix it.
func (m formModel) failed(err error) (formModel, tea.Cmd) {
	m.err = errorText(err, m.submitted)
	switch {
	case errors.Is(err, client.ErrWrongPassword):
		m.inputs[fieldPassword].Reset()
		return m.focusOn(fieldPassword)
	case errors.Is(err, client.ErrAccountNotFound), errors.Is(err, client.ErrUsernameTaken):
		return m.focusOn(fieldUsername)
	}
	return m, nil
}

func (m formModel) title() string {
	if m.kind == registerForm {
		return "Register"
	}
	return "Log in"
}

func (m formModel) helpKeys() (help.KeyMap, bool) { return m.keys, false }

func (m formModel) view(width int) string {
	s := m.deps.styles
	var b strings.Builder
	for i, in := range m.inputs {
		label := fmt.Sprintf("%-*s", labelWidth, m.labels[i])
		if i == m.focus && !m.busy {
			b.WriteString("  " + s.selected.Render("> "+label))
		} else {
			b.WriteString("    " + s.label.Render(label))
		}
		b.WriteString(in.View())
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	switch {
	case m.busy:
		what := "logging in as "
		if m.kind == registerForm {
			what = "registering "
		}
		b.WriteString(busyLine(s, width, m.spinner.View(), what+m.submitted+"…"))
	case m.err != "":
		b.WriteString(statusLine(s, width, m.err, true))
	case m.note != "":
		b.WriteString(statusLine(s, width, m.note, false))
	}
	return b.String()
}
