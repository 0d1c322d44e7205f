package mock

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/dyor-exchange/dyorctl/api"
)

// stateVersion is the version of the --state file format.
const stateVersion = 1

type stateFile struct {
	Version  int            `json:"version"`
	Accounts []stateAccount `json:"accounts"`
	Sessions []stateSession `json:"sessions"`
}

type stateAccount struct {
	ID          string     `json:"id"`
	Username    string     `json:"username"`
	Hash        string     `json:"bcrypt_hash"`
	Failures    int        `json:"failures,omitempty"`
	LockedUntil *time.Time `json:"locked_until,omitempty"`
}

type stateSession struct {
	ID        string `json:"id"`
	AccountID string `json:"account_id"`
	CreatedAt int64  `json:"created_at"`
	ExpiresAt int64  `json:"expires_at"`
	Rotated   bool   `json:"rotated,omitempty"`
	Successor string `json:"successor,omitempty"`
}

// ErrCorruptState is matched by errors.Is when a state file cannot be read
// as one.
var ErrCorruptState = errors.New("not a dyormock state file")

// MaxStateFileSize is the largest state file read: some hundred thousand
// accounts and sessions. A bigger file, or one that is not a regular file
// (a named pipe, a link to /dev/zero), is refused with ErrCorruptState
// instead of being read without end.
const MaxStateFileSize = 64 << 20

// loadState reads the state file at path into the empty server; a missing
// file means an empty state.
func (s *Server) loadState(path string) error {
	b, err := readStateFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if errors.Is(err, ErrCorruptState) {
		return fmt.Errorf("mock: state file %s: %w (move it away to start empty)", path, err)
	}
	if err != nil {
		return fmt.Errorf("mock: reading state file %s: %w", path, err)
	}
	st, err := decodeState(b)
	if err != nil {
		return fmt.Errorf("mock: state file %s: %w (move it away to start empty)", path, err)
	}
	for _, a := range st.Accounts {
		key, _ := parseID(a.ID) // checked by decodeState
		acc := &account{id: a.ID, key: key, username: a.Username, hash: []byte(a.Hash), failures: a.Failures}
		if a.LockedUntil != nil {
			acc.lockedUntil = *a.LockedUntil
		}
		if e := s.accounts.insert(acc); e != nil {
			return fmt.Errorf("mock: state file %s: %w: account %q twice", path, ErrCorruptState, a.Username)
		}
	}
	for _, ss := range st.Sessions {
		acc := s.accounts.byAccountID(ss.AccountID)
		if acc == nil {
			continue // its account is gone: the session is too
		}
		sid, _ := parseID(ss.ID) // checked by decodeState
		sess := session{account: acc.key, createdAt: ss.CreatedAt, expiresAt: ss.ExpiresAt, rotated: ss.Rotated}
		if ss.Rotated {
			sess.successor, _ = parseID(ss.Successor)
		}
		s.sessions.put(sid, sess)
	}
	return nil
}

// readStateFile reads path if it is a regular file of at most
// MaxStateFileSize bytes. It looks before it opens, since opening a named
// pipe waits for a writer; the check is not atomic, which is enough for a
// file that one dyormock owns.
func readStateFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if err := checkStateFile(fi); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil {
		return nil, err
	}
	if err := checkStateFile(fi); err != nil {
		return nil, err
	}
	// The size may change after Stat: read one byte past the limit to see.
	b, err := io.ReadAll(io.LimitReader(f, MaxStateFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxStateFileSize {
		return nil, errStateTooBig
	}
	return b, nil
}

var errStateTooBig = fmt.Errorf("%w: larger than the limit of %d MiB", ErrCorruptState, MaxStateFileSize>>20)

func checkStateFile(fi fs.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%w: not a regular file (mode %s)", ErrCorruptState, fi.Mode().Type())
	}
	if fi.Size() > MaxStateFileSize {
		return errStateTooBig
	}
	return nil
}

// decodeState parses and checks a state file.
func decodeState(b []byte) (*stateFile, error) {
	var st stateFile
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorruptState, err)
	}
	if st.Version != stateVersion {
		return nil, fmt.Errorf("%w: version %d, want %d", ErrCorruptState, st.Version, stateVersion)
	}
	for _, a := range st.Accounts {
		if _, ok := parseID(a.ID); !ok || a.Hash == "" || api.CheckUsername(a.Username) != nil {
			return nil, fmt.Errorf("%w: an account without a valid id, hash or username", ErrCorruptState)
		}
	}
	for _, ss := range st.Sessions {
		_, okID := parseID(ss.ID)
		_, okAccount := parseID(ss.AccountID)
		_, okSuccessor := parseID(ss.Successor)
		if !okID || !okAccount || (ss.Rotated && !okSuccessor) {
			return nil, fmt.Errorf("%w: a session without a valid id, account or successor", ErrCorruptState)
		}
	}
	return &st, nil
}

// snapshot returns the state of the server.
func (s *Server) snapshot() *stateFile {
	// A seed's hash is made on first use, and the file holds hashes, never
	// a password. (Hashing can fail only for a password or cost that the
	// options have already refused.)
	_ = s.accounts.hashSeeds()
	st := &stateFile{Version: stateVersion, Accounts: []stateAccount{}, Sessions: []stateSession{}}
	s.accounts.mu.RLock()
	for _, acc := range s.accounts.byName {
		a := stateAccount{ID: acc.id, Username: acc.username, Hash: string(acc.hash), Failures: acc.failures}
		if !acc.lockedUntil.IsZero() {
			t := acc.lockedUntil.UTC()
			a.LockedUntil = &t
		}
		st.Accounts = append(st.Accounts, a)
	}
	s.accounts.mu.RUnlock()
	s.sessions.each(func(sid id, sess session) {
		ss := stateSession{ID: sid.String(), AccountID: sess.account.String(),
			CreatedAt: sess.createdAt, ExpiresAt: sess.expiresAt, Rotated: sess.rotated}
		if sess.rotated {
			ss.Successor = sess.successor.String()
		}
		st.Sessions = append(st.Sessions, ss)
	})
	return st
}

// SaveState writes the state file given by WithStateFile, atomically: a
// reader sees the previous file or the new one, never a part.
func (s *Server) SaveState() error {
	if s.cfg.statePath == "" {
		return errors.New("mock: no state file configured")
	}
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	b, err := json.Marshal(s.snapshot())
	if err != nil {
		return err
	}
	removeStaleTemps(s.cfg.statePath)
	return writeFileAtomic(s.cfg.statePath, b, 0o600)
}

// removeStaleTemps deletes temporary files that a writer of path killed
// mid-write left behind, so they do not pile up. One dyormock owns a state
// file, so no other writer's temp file is in flight.
func removeStaleTemps(path string) {
	stale, _ := filepath.Glob(filepath.Join(filepath.Dir(path), tempPrefix(path)+"*"))
	for _, f := range stale {
		_ = os.Remove(f)
	}
}

func tempPrefix(path string) string { return "." + filepath.Base(path) + ".tmp-" }

// writeFileAtomic writes data to a temporary file beside path, syncs it and
// renames it over path.
func writeFileAtomic(path string, data []byte, perm os.FileMode) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, tempPrefix(path)+"*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err = os.Chmod(f.Name(), perm); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}
