package credstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/dyor-exchange/dyorctl/client"
)

const (
	// FileName is the name of the credentials file in the store's directory.
	FileName = "credentials.json"
	// lockName is the file that the cross-process lock is taken on. It is
	// never removed: removing a lock file lets two processes lock two
	// different files.
	lockName = "credentials.lock"

	fileVersion = 1
	fileMode    = 0o600
	dirMode     = 0o700

	lockRetry = 10 * time.Millisecond
)

// ErrCorrupt is matched by errors.Is when the credentials file is not valid
// JSON, has an unknown version, holds something that is not a token pair,
// is not a regular file or is larger than MaxFileSize. The error names the
// file. Such a file is never written over.
var ErrCorrupt = errors.New("credential store is corrupt")

// ErrNoActive means no account of the server is active (logged in). It
// matches client.ErrNotLoggedIn.
var ErrNoActive error = &notLoggedInError{"no account is logged in"}

// ErrNoAccount means no account of that username is stored for the server.
// It matches client.ErrNotLoggedIn.
var ErrNoAccount error = &notLoggedInError{"no such stored account"}

// ErrUnwritable is matched by errors.Is when a change could not even
// start because the credentials file cannot be written (a full disk, a
// file size limit, a read-only directory). It is found out before the
// change's function runs, so nothing was sent to a server: the stored
// tokens are as they were and still good.
var ErrUnwritable = errors.New("credential store cannot be written")

// ErrUnsaved is matched by errors.Is when a change was made (Update's
// function ran, and may have rotated or ended a session on the server)
// but could not be written to the file, which still holds what it held.
var ErrUnsaved = errors.New("credential store change not saved")

// writeError is a write of the file that failed, before the change
// (ErrUnwritable) or after it (ErrUnsaved).
type writeError struct {
	path   string
	before bool
	err    error
}

func (e *writeError) Error() string {
	if e.before {
		return fmt.Sprintf("cannot write the credential store %s: %s", e.path, cause(e.err))
	}
	return fmt.Sprintf("could not save the credential store %s: %s", e.path, cause(e.err))
}

func (e *writeError) Unwrap() error { return e.err }

func (e *writeError) Is(target error) bool {
	return e.before && target == ErrUnwritable || !e.before && target == ErrUnsaved
}

// cause is what made a file operation fail, in words ("no space left on
// device"), without the temporary file's name.
func cause(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err.Error()
	}
	return err.Error()
}

type notLoggedInError struct{ text string }

func (e *notLoggedInError) Error() string { return e.text }
func (e *notLoggedInError) Unwrap() error { return client.ErrNotLoggedIn }

type corruptError struct {
	path, why string
}

func (e *corruptError) Error() string {
	return fmt.Sprintf("credential store %s is unusable (%s): move it away and log in again", e.path, e.why)
}

func (e *corruptError) Is(target error) bool { return target == ErrCorrupt }

// DefaultDir returns where dyorctl keeps its credentials: $DYOR_CONFIG_DIR
// if set, else <os.UserConfigDir()>/dyorctl.
func DefaultDir() (string, error) {
	return Dir(os.Getenv("DYOR_CONFIG_DIR"), os.UserConfigDir)
}

// Dir decides the config directory: explicit when it is not empty (a
// flag's or a variable's value), else dyorctl under userConfigDir(), which
// is os.UserConfigDir in a real run. dyorctl and DefaultDir both decide
// through it.
func Dir(explicit string, userConfigDir func() (string, error)) (string, error) {
	if explicit != "" {
		return explicit, nil
	}
	base, err := userConfigDir()
	if err != nil {
		return "", fmt.Errorf("cannot find the user config directory (%v): set DYOR_CONFIG_DIR", err)
	}
	return filepath.Join(base, "dyorctl"), nil
}

// Store is the credentials file in a directory; see the package doc for
// how changes are locked and written. Any number of Stores, in any number
// of processes, may share a directory.
type Store struct {
	dir, path, lockPath string
}

// Open returns the store in dir. It creates nothing: the directory (mode
// 0700) and the file come with the first change.
func Open(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("credstore: no directory given")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("credstore: %w", err)
	}
	return &Store{
		dir:      abs,
		path:     filepath.Join(abs, FileName),
		lockPath: filepath.Join(abs, lockName),
	}, nil
}

// Path returns the credentials file's path, <dir>/credentials.json.
func (s *Store) Path() string { return s.path }

// Account is a stored account.
type Account struct {
	Server   string // normalised server URL
	Username string
	Active   bool // the server's active account
	Tokens   client.Tokens
}

// Accounts returns every stored account of every server, sorted by server
// then username.
func (s *Store) Accounts() ([]Account, error) {
	st, err := s.read()
	if err != nil {
		return nil, err
	}
	var list []Account
	for server, se := range st.servers {
		for name, t := range se.accounts {
			list = append(list, Account{Server: server, Username: name, Active: name == se.active, Tokens: t})
		}
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].Server != list[j].Server {
			return list[i].Server < list[j].Server
		}
		return list[i].Username < list[j].Username
	})
	return list, nil
}

// Active returns the active account of server; an error matching
// ErrNoActive (and client.ErrNotLoggedIn) when there is none.
func (s *Store) Active(server string) (Account, error) {
	server, err := NormalizeServer(server)
	if err != nil {
		return Account{}, err
	}
	st, err := s.read()
	if err != nil {
		return Account{}, err
	}
	t, ok := st.active(server)
	if !ok {
		return Account{}, fmt.Errorf("%w on %s", ErrNoActive, server)
	}
	return Account{Server: server, Username: t.Username, Active: true, Tokens: t}, nil
}

// Switch makes username the active account of server; an error matching
// ErrNoAccount if it is not stored. ctx bounds the wait for the lock.
func (s *Store) Switch(ctx context.Context, server, username string) error {
	server, err := NormalizeServer(server)
	if err != nil {
		return err
	}
	return s.change(ctx, func(st *state) (bool, error) {
		se := st.servers[server]
		if se == nil || !se.has(username) {
			return false, fmt.Errorf("%w: %q on %s", ErrNoAccount, username, server)
		}
		if se.active == username {
			return false, nil
		}
		se.active = username
		return true, nil
	})
}

// Remove deletes the stored account (no error if there is none). If it was
// the active one, the server has no active account afterwards. ctx bounds
// the wait for the lock.
func (s *Store) Remove(ctx context.Context, server, username string) error {
	server, err := NormalizeServer(server)
	if err != nil {
		return err
	}
	return s.change(ctx, func(st *state) (bool, error) {
		return st.remove(server, username), nil
	})
}

// Login stores the session that login creates as server's active account,
// deciding under the lock what it replaces. It takes the lock, reads the
// file and prepares its write before it runs login (so a file that cannot
// be written stops the login before the server creates a session), then
// stores the tokens login returns under their Username (which must be
// set). It returns those tokens and the ones they replaced: the earlier
// session of that username stored at that moment (zero if none), which
// the caller should end on the server since nothing refers to it any more.
// Parallel logins of one username are serialised, so each finds the one
// before it. login's error is returned as it is, with nothing changed.
// When the new tokens cannot be written (ErrUnsaved), they are returned
// with the error and earlier is zero: the earlier session is still the
// stored one, and the new one is stored nowhere.
func (s *Store) Login(ctx context.Context, server string, login func() (client.Tokens, error)) (t, earlier client.Tokens, err error) {
	server, err = NormalizeServer(server)
	if err != nil {
		return client.Tokens{}, client.Tokens{}, err
	}
	err = s.change(ctx, func(st *state) (bool, error) {
		got, err := login()
		if err != nil {
			return false, err
		}
		if t, err = checked(got); err != nil {
			return false, err
		}
		if se := st.servers[server]; se != nil {
			earlier = se.accounts[t.Username]
		}
		st.put(server, t)
		return true, nil
	})
	if err != nil {
		// Whatever was stored still is. t, if login gave one, is a session
		// nothing stores (ErrUnsaved): the caller should end it.
		earlier = client.Tokens{}
	}
	return t, earlier, err
}

// ForServer returns the client.TokenStore of server's active account:
// Load reads it, Save stores an account (under Tokens.Username, which must
// be set) and makes it the active one, Delete removes the active account
// (as does Save of zero Tokens), Update runs under the file lock. A bad
// server URL makes every method fail.
func (s *Store) ForServer(server string) client.TokenStore {
	norm, err := NormalizeServer(server)
	return &serverStore{s: s, server: norm, err: err}
}

// path → chan struct{}
