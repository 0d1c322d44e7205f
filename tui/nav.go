package tui

import (
	"github.com/charmbracelet/bubbles/help"
	tea "github.com/charmbracelet/bubbletea"
)

// screenID is the root's typed state: which screen is active.
type screenID int

const (
	screenLoading  screenID = iota // reading the stored accounts
	screenAccounts                 // every stored account
	screenMenu                     // none stored
	screenLogin
	screenRegister
	screenDashboard
)

// component is a screen. The root gives it the messages while it is active
// and draws it; the screen answers where to go next, if anywhere, in the
// same update: nothing to remember, nothing to clear.
type component interface {
	// update handles msg; to is nil to stay.
	update(msg tea.Msg) (cmd tea.Cmd, to navigation)
	// view draws the screen's body, width columns wide and at most height
	// lines high (0 = unknown).
	view(width, height int) string
	// title is the screen's name, after "dyorctl · ".
	title() string
	// helpKeys is the key map the help is drawn from, and whether the full
	// help is shown.
	helpKeys() (keys help.KeyMap, full bool)
	// setSize fits the screen to the terminal.
	setSize(width, height int)
}

// navigation is where a screen sends the user: one of the to* types below,
// and no other (its method is unexported). The root opens it at once, in the
// update that asked for it, so that no key typed meanwhile reaches the
// screen being left.
type navigation interface {
	// open makes the screen active and returns its first command.
	open(m *Model) tea.Cmd
}

// toHome is the accounts screen when an account is stored, the menu when
// none is. The accounts screen shows at once with the accounts it showed
// last, if any, so that no key is lost, and takes the ones read again when
// they come.
type toHome struct {
	note    string
	isError bool
	event   string // for the history; "" = none
}

// toMenu is the menu.
type toMenu struct {
	note    string
	isError bool
}

// toForm is the login or register form.
type toForm struct {
	kind     formKind
	server   string // filled in; "" = the app's default server
	username string // filled in
	note     string
	isError  bool
}

// toDashboard is the dashboard of a session, with what just happened for
// its history ("" = nothing).
type toDashboard struct {
	session session
	event   string
}

func (to toHome) open(m *Model) tea.Cmd {
	if to.event != "" {
		m.dashboard.record(to.event)
	}
	m.homeNote, m.homeNoteIsError = to.note, to.isError
	if last := m.accounts.all; len(last) > 0 {
		m.active = screenAccounts
		m.accounts.show(last, to.note, to.isError)
		return tea.Batch(m.accounts.tick(), loadAccountsCmd(m.deps, accountsMsg{reload: true}))
	}
	m.active = screenLoading
	return loadAccountsCmd(m.deps, accountsMsg{})
}

func (to toMenu) open(m *Model) tea.Cmd {
	m.active = screenMenu
	m.menu.show(to.note, to.isError)
	return nil
}

func (to toForm) open(m *Model) tea.Cmd {
	f := m.login
	m.active = screenLogin
	if to.kind == registerForm {
		f = m.register
		m.active = screenRegister
	}
	server := to.server
	if server == "" {
		server = m.deps.server
	}
	return f.show(server, to.username, to.note, to.isError)
}

func (to toDashboard) open(m *Model) tea.Cmd {
	m.active = screenDashboard
	return m.dashboard.show(to.session, to.event)
}

// toAccounts is the accounts screen with the accounts just read.
type toAccounts struct {
	accounts     []storedAccount
	note         string
	isError      bool
	openSelected bool // and open the first one at once, as Enter does
}

func (to toAccounts) open(m *Model) tea.Cmd {
	m.active = screenAccounts
	m.accounts.show(to.accounts, to.note, to.isError)
	if to.openSelected {
		return tea.Batch(m.accounts.tick(), m.accounts.openSelected())
	}
	return m.accounts.tick()
}
