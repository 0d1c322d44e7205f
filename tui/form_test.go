package tui

import (
	"fmt"
	"net/url"
	"strings"
	"syscall"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/dyor-exchange/dyorctl/client"
	"github.com/dyor-exchange/dyorctl/internal/contracttest"
)

// shownForm is a form as the root model shows it.
func shownForm(kind formKind, username, note string) formModel {
	m, _ := newForm(testDeps(fixedNow), kind).show(username, note)
	return m
}

// fill types the values into the form's fields, from the first.
func fill(t *testing.T, m formModel, values ...string) formModel {
	t.Helper()
	m, _ = m.focusOn(fieldUsername)
	for i, v := range values {
		if i > 0 {
			m, _ = m.update(keyMsg("tab"))
		}
		if v != "" {
			m, _ = m.update(keyMsg(v))
		}
	}
	return m
}

func TestFormStartsEmptyOnUsername(t *testing.T) {
	t.Parallel()
	for _, kind := range []formKind{loginForm, registerForm} {
		m := shownForm(kind, "", "")
		if m.focus != fieldUsername || !m.inputs[fieldUsername].Focused() {
			t.Errorf("%v: focus on %d", kind, m.focus)
		}
		want := []string{"Username", "Password"}
		if kind == registerForm {
			want = append(want, "Confirm password")
		}
		if fmt.Sprint(m.labels) != fmt.Sprint(want) {
			t.Errorf("labels %q, want %q", m.labels, want)
		}
	}
	m := shownForm(loginForm, "john@API", "account created, log in")
	if m.focus != fieldPassword || m.inputs[fieldUsername].Value() != "john@API" {
		t.Errorf("filled in: focus %d, username %q", m.focus, m.inputs[fieldUsername].Value())
	}
	if !strings.Contains(m.view(80), "✓ account created, log in") {
		t.Errorf("no note in\n%s", m.view(80))
	}
}

func TestFormFocusKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind  formKind
		keys  []string
		focus int
	}{
		{loginForm, []string{"tab"}, fieldPassword},
		{loginForm, []string{"tab", "tab"}, fieldUsername},
		{loginForm, []string{"shift+tab"}, fieldPassword},
		{loginForm, []string{"down"}, fieldPassword},
		{loginForm, []string{"down", "up"}, fieldUsername},
		{registerForm, []string{"tab", "tab"}, fieldConfirm},
		{registerForm, []string{"shift+tab"}, fieldConfirm},
		{registerForm, []string{"tab", "tab", "tab"}, fieldUsername},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.kind, tt.keys), func(t *testing.T) {
			t.Parallel()
			m := shownForm(tt.kind, "", "")
			for _, k := range tt.keys {
				m, _ = m.update(keyMsg(k))
			}
			if m.focus != tt.focus {
				t.Fatalf("focus = %d, want %d", m.focus, tt.focus)
			}
			for i := range m.inputs {
				if m.inputs[i].Focused() != (i == tt.focus) {
					t.Errorf("input %d focused = %v", i, m.inputs[i].Focused())
				}
			}
		})
	}
}

func TestFormQIsText(t *testing.T) {
	t.Parallel()
	m := shownForm(loginForm, "", "")
	m, cmd := m.update(keyMsg("q"))
	if isQuit(cmd) {
		t.Fatal("q quit the form")
	}
	m, _ = m.update(keyMsg("?"))
	if got := m.inputs[fieldUsername].Value(); got != "q?" {
		t.Errorf("username = %q, want q?", got)
	}
}

func TestFormEscClearsAndGoesBack(t *testing.T) {
	t.Parallel()
	m := fill(t, shownForm(registerForm, "", ""), "john", "secret", "other")
	m, _ = m.update(keyMsg("enter")) // too short: an error shown
	m, _ = m.update(keyMsg("esc"))
	if m.goTo != (toMenu{}) {
		t.Errorf("goTo = %#v", m.goTo)
	}
	for i, in := range m.inputs {
		if in.Value() != "" {
			t.Errorf("field %d kept %q", i, in.Value())
		}
	}
	if m.err != "" || m.focus != fieldUsername {
		t.Errorf("err %q, focus %d", m.err, m.focus)
	}
}

func TestFormValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		kind   formKind
		values []string
		err    string // "" = sent
		focus  int
	}{
		{"empty", loginForm, nil, "enter a username", fieldUsername},
		{"short username", loginForm, []string{"jo", "honeyBunnies"}, "username must be 3 to 64 characters long", fieldUsername},
		{"long username", loginForm, []string{strings.Repeat("é", 65), "honeyBunnies"}, "username must be 3 to 64 characters long", fieldUsername},
		{"64 code points", loginForm, []string{strings.Repeat("é", 64), "honeyBunnies"}, "", 0},
		{"space", loginForm, []string{"john doe", "honeyBunnies"}, "username must not contain whitespace, control or format characters", fieldUsername},
		{"no-break space", loginForm, []string{"john\u00a0doe", "honeyBunnies"}, "username must not contain whitespace, control or format characters", fieldUsername},
		{"no password", loginForm, []string{"john@API"}, "enter a password", fieldPassword},
		{"short password", loginForm, []string{"john@API", "1234567"}, "password must be 8 to 72 bytes long", fieldPassword},
		{"73 bytes", loginForm, []string{"john@API", strings.Repeat("x", 73)}, "password must be 8 to 72 bytes long", fieldPassword},
		{"72 bytes", loginForm, []string{"john@API", strings.Repeat("x", 72)}, "", 0},
		{"bytes not characters", loginForm, []string{"john@API", strings.Repeat("é", 37)}, "password must be 8 to 72 bytes long", fieldPassword},
		{"login ok", loginForm, []string{"john@API", "honeyBunnies"}, "", 0},
		{"mismatch", registerForm, []string{"john@API", "honeyBunnies", "honeybunnies"}, "the passwords do not match", fieldConfirm},
		{"no confirm", registerForm, []string{"john@API", "honeyBunnies"}, "the passwords do not match", fieldConfirm},
		{"register ok", registerForm, []string{"john@API", "honeyBunnies", "honeyBunnies"}, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := fill(t, shownForm(tt.kind, "", ""), tt.values...)
			m, cmd := m.update(keyMsg("enter"))
			if tt.err == "" {
				if !m.busy || cmd == nil || m.err != "" {
					t.Fatalf("not sent: busy %v, err %q", m.busy, m.err)
				}
				if !strings.Contains(m.view(80), "…") {
					t.Errorf("no progress shown:\n%s", m.view(80))
				}
				return
			}
			if m.busy {
				t.Fatal("sent a request that breaks the rules")
			}
			if m.err != tt.err {
				t.Errorf("err = %q, want %q", m.err, tt.err)
			}
			if m.focus != tt.focus {
				t.Errorf("focus = %d, want %d", m.focus, tt.focus)
			}
			if !strings.Contains(m.view(200), "✗ "+tt.err) {
				t.Errorf("error not shown:\n%s", m.view(200))
			}
		})
	}
}

func TestFormSubmitsFromAnyField(t *testing.T) {
	t.Parallel()
	for field := range 3 {
		m := fill(t, shownForm(registerForm, "", ""), "john@API", "honeyBunnies", "honeyBunnies")
		m, _ = m.focusOn(field)
		m, _ = m.update(keyMsg("enter"))
		if !m.busy || m.submitted != "john@API" {
			t.Errorf("enter on field %d: busy %v", field, m.busy)
		}
	}
}

func TestFormIgnoresInputWhileBusy(t *testing.T) {
	t.Parallel()
	m := fill(t, shownForm(loginForm, "", ""), "john@API", "honeyBunnies")
	m, _ = m.update(keyMsg("enter"))
	for _, k := range []string{"x", "tab", "esc", "enter", "backspace"} {
		var cmd tea.Cmd
		m, cmd = m.update(keyMsg(k))
		if cmd != nil || m.goTo != nil {
			t.Errorf("%s while busy: cmd or navigation", k)
		}
	}
	if m.inputs[fieldUsername].Value() != "john@API" || m.focus != fieldPassword || !m.busy {
		t.Errorf("form changed while busy: %q, focus %d", m.inputs[fieldUsername].Value(), m.focus)
	}
}

func TestFormMasksPassword(t *testing.T) {
	t.Parallel()
	m := fill(t, shownForm(registerForm, "", ""), "john@API", "honeyBunnies", "honeyBunnies")
	v := m.view(80)
	if strings.Contains(v, "honeyBunnies") {
		t.Fatalf("password on screen:\n%s", v)
	}
	if strings.Count(v, strings.Repeat("*", len("honeyBunnies"))) != 2 {
		t.Errorf("masked passwords not shown:\n%s", v)
	}
}

func TestFormResults(t *testing.T) {
	t.Parallel()
	netErr := &url.Error{Op: "Post", URL: "http://127.0.0.1:1/api/v1/account/login", Err: syscall.ECONNREFUSED}
	tests := []struct {
		name  string
		kind  formKind
		msg   tea.Msg
		err   string
		focus int
		goTo  any
	}{
		{"wrong password", loginForm, loginResultMsg{err: fmt.Errorf("login: %w", &client.APIError{Status: 401, Code: 401005, Message: "wrong password"})}, "wrong password", fieldPassword, nil},
		{"no account", loginForm, loginResultMsg{err: client.ErrAccountNotFound}, "no account named john@API", fieldUsername, nil},
		{"locked", loginForm, loginResultMsg{err: client.ErrAccountLocked}, "account locked", fieldPassword, nil},
		{"network", loginForm, loginResultMsg{err: netErr}, "cannot reach the server: connection refused", fieldPassword, nil},
		{"5xx", loginForm, loginResultMsg{err: &client.APIError{Status: 503, Code: 503000, Message: "unavailable"}}, "the server failed: ", fieldPassword, nil},
		{"logged in", loginForm, loginResultMsg{session: testSession()}, "", fieldUsername, toDashboard{session: testSession()}},
		{"taken", registerForm, registerResultMsg{username: "john@API", err: client.ErrUsernameTaken}, "username taken", fieldUsername, nil},
		{"registered", registerForm, registerResultMsg{username: "john@API"}, "", fieldUsername, toForm{kind: loginForm, username: "john@API", note: "account created, log in"}},
		{"other form's result", registerForm, loginResultMsg{err: client.ErrWrongPassword}, "", fieldPassword, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := fill(t, shownForm(tt.kind, "", ""), "john@API", "honeyBunnies", "honeyBunnies")
			m, _ = m.focusOn(fieldPassword)
			m, _ = m.update(keyMsg("enter"))
			m, _ = m.update(tt.msg)
			if !strings.HasPrefix(m.err, tt.err) || (tt.err == "") != (m.err == "") {
				t.Errorf("err = %q, want %q", m.err, tt.err)
			}
			if m.focus != tt.focus {
				t.Errorf("focus = %d, want %d", m.focus, tt.focus)
			}
			if m.goTo != tt.goTo {
				t.Errorf("goTo = %#v, want %#v", m.goTo, tt.goTo)
			}
			if tt.err != "" && m.busy {
				t.Error("still busy after the answer")
			}
		})
	}
}

func TestFormWrongPasswordClearsPassword(t *testing.T) {
	t.Parallel()
	m := fill(t, shownForm(loginForm, "", ""), "john@API", "honeyBunnies")
	m, _ = m.update(keyMsg("enter"))
	m, _ = m.update(loginResultMsg{err: client.ErrWrongPassword})
	if m.inputs[fieldPassword].Value() != "" || m.inputs[fieldUsername].Value() != "john@API" {
		t.Errorf("after wrong password: %q / %q", m.inputs[fieldUsername].Value(), m.inputs[fieldPassword].Value())
	}
	// Typing again clears the error.
	m, _ = m.update(keyMsg("x"))
	if m.err != "" {
		t.Errorf("err %q kept after an edit", m.err)
	}
}

func TestCheckRules(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"john@API", "abc", "ünï", strings.Repeat("a", 64)} {
		if p := checkUsername(u); p != "" {
			t.Errorf("checkUsername(%q) = %q", u, p)
		}
	}
	for _, u := range []string{"", "ab", "a\tb", "a\x01b", "ab\u2003", string([]byte{'a', 'b', 0xff}), strings.Repeat("a", 65)} {
		if checkUsername(u) == "" {
			t.Errorf("checkUsername(%q) passed", u)
		}
	}
	if checkPassword(strings.Repeat("x", 8)) != "" || checkPassword(strings.Repeat("x", 7)) == "" {
		t.Error("checkPassword's bounds")
	}
}

// The forms give every row of the shared input-rules table the server's
// verdict before anything is sent.
func TestFormInputRulesTable(t *testing.T) {
	t.Parallel()
	usernames, passwords := contracttest.InputRules()
	for _, tc := range usernames {
		if got := checkUsername(tc.Value) == ""; got != tc.Valid {
			t.Errorf("checkUsername(%+q) = %q, want valid=%v (%s)", tc.Value, checkUsername(tc.Value), tc.Valid, tc.Note)
		}
	}
	for _, tc := range passwords {
		if got := checkPassword(tc.Value) == ""; got != tc.Valid {
			t.Errorf("checkPassword(%d bytes) = %q, want valid=%v", len(tc.Value), checkPassword(tc.Value), tc.Valid)
		}
	}
}
