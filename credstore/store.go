package credstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gofrs/flock"

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

// MaxFileSize is the largest credentials file read: a few thousand
// accounts. A bigger file, or one that is not a regular file (a named
// pipe, a link to /dev/zero), is refused as unusable rather than read
// without end.
const MaxFileSize = 1 << 20

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

// Store is the credentials file in a directory. Every change takes the
// cross-process lock and re-reads the file first; reads need no lock since
// the file is only ever replaced whole. Any number of Stores, in any number
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

// state is the file's content in memory, with the tokens' claims read.
type state struct {
	servers map[string]*serverState
}

type serverState struct {
	active   string                   // "" when none
	accounts map[string]client.Tokens // by username, with Username set
}

func (se *serverState) has(username string) bool {
	_, ok := se.accounts[username]
	return ok
}

func (st *state) active(server string) (client.Tokens, bool) {
	se := st.servers[server]
	if se == nil || se.active == "" {
		return client.Tokens{}, false
	}
	t, ok := se.accounts[se.active]
	return t, ok
}

// put stores t under its username and makes it active.
func (st *state) put(server string, t client.Tokens) {
	se := st.servers[server]
	if se == nil {
		se = &serverState{accounts: make(map[string]client.Tokens)}
		st.servers[server] = se
	}
	se.accounts[t.Username] = t
	se.active = t.Username
}

// remove deletes an account and reports whether there was one.
func (st *state) remove(server, username string) bool {
	se := st.servers[server]
	if se == nil || !se.has(username) {
		return false
	}
	delete(se.accounts, username)
	if se.active == username {
		se.active = ""
	}
	if len(se.accounts) == 0 {
		delete(st.servers, server)
	}
	return true
}

// The file's layout.
type fileJSON struct {
	Version int                    `json:"version"`
	Servers map[string]*serverJSON `json:"servers"`
}

type serverJSON struct {
	Active   string                 `json:"active"`
	Accounts map[string]accountJSON `json:"accounts"`
}

type accountJSON struct {
	Access  string `json:"access"`
	Refresh string `json:"refresh"`
	// ClockOffsetMS is client.Tokens.ClockOffset in milliseconds. Absent
	// (files written before it existed) means zero; readers that predate
	// it ignore it.
	ClockOffsetMS int64 `json:"clock_offset_ms,omitempty"`
}

// read reads and checks the file; a missing file is an empty store.
func (s *Store) read() (*state, error) {
	st := &state{servers: make(map[string]*serverState)}
	corrupt := func(format string, args ...any) (*state, error) {
		return nil, &corruptError{path: s.path, why: fmt.Sprintf(format, args...)}
	}
	data, err := readRegular(s.path, MaxFileSize)
	var nr *notRegularError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return st, nil
	case errors.As(err, &nr):
		return corrupt("%s", nr.why)
	case err != nil:
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("cannot read the credential store %s: %w", s.path, err)
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return corrupt("empty")
	}
	if trimmed[0] != '{' {
		return corrupt("not a JSON object")
	}
	// Read the version first so that a future layout is reported as such.
	var head struct {
		Version json.RawMessage `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return corrupt("%s", jsonProblem(err))
	}
	if string(head.Version) != "1" {
		if head.Version == nil {
			return corrupt("no version")
		}
		return corrupt("unknown version %s, this program reads version %d", clip(string(head.Version)), fileVersion)
	}
	var f fileJSON
	if err := json.Unmarshal(data, &f); err != nil {
		return corrupt("%s", jsonProblem(err))
	}
	// Every key counts for duplicates, empty or not, so that the verdict
	// does not depend on the order the map is walked in.
	seen := make(map[string]bool, len(f.Servers))
	for rawServer, sj := range f.Servers {
		server, err := NormalizeServer(rawServer)
		if err != nil {
			return corrupt("bad server %q", clip(rawServer))
		}
		if seen[server] {
			return corrupt("server %s listed twice", server)
		}
		seen[server] = true
		if sj == nil {
			continue
		}
		se := &serverState{active: sj.Active, accounts: make(map[string]client.Tokens, len(sj.Accounts))}
		for name, aj := range sj.Accounts {
			if name == "" {
				return corrupt("an account of %s has no username", server)
			}
			t, err := client.ParseTokens(aj.Access, aj.Refresh)
			if err != nil {
				return corrupt("the tokens of %q on %s: %v", clip(name), server, err)
			}
			t.Username = name
			t.ClockOffset = time.Duration(aj.ClockOffsetMS) * time.Millisecond
			se.accounts[name] = t
		}
		if len(se.accounts) > 0 {
			st.servers[server] = se
		}
	}
	return st, nil
}

// notRegularError is a file that readRegular refuses to read.
type notRegularError struct{ why string }

func (e *notRegularError) Error() string { return e.why }

// readRegular reads the file at path if it is a regular file of at most
// limit bytes. Anything else (a named pipe, whose open and read would wait
// for a writer forever; a device such as /dev/zero, which never ends; a
// directory) is a *notRegularError, and so is a bigger file: the read ends
// either way, quickly and in bounded memory.
func readRegular(path string, limit int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|openNonblock, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, &fs.PathError{Op: "read", Path: path, Err: errors.New("is a directory")}
	}
	if !fi.Mode().IsRegular() {
		return nil, &notRegularError{"not a regular file but " + fileKind(fi.Mode())}
	}
	tooBig := &notRegularError{fmt.Sprintf("larger than the limit of %s", sizeText(limit))}
	if fi.Size() > limit {
		return nil, tooBig
	}
	// The size may change after Stat: read one byte past the limit to see.
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, tooBig
	}
	return data, nil
}

// fileKind names the kind of a file that is not a regular one.
func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m.IsDir():
		return "a directory"
	}
	return "a special file"
}

// sizeText is a byte count in words: "1 MiB", "64 KiB", "100 bytes".
func sizeText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// jsonProblem says in words what is wrong with the file's JSON.
func jsonProblem(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("not valid JSON at byte %d", syntax.Offset)
	case errors.As(err, &typ) && typ.Field != "":
		return fmt.Sprintf("%q holds a JSON %s where the layout has something else", typ.Field, typ.Value)
	case errors.As(err, &typ):
		return fmt.Sprintf("a JSON %s where the layout has something else", typ.Value)
	}
	return "not valid JSON: " + err.Error()
}

// clip shortens text from the file for an error message.
func clip(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}

func (st *state) marshal() ([]byte, error) {
	f := fileJSON{Version: fileVersion, Servers: make(map[string]*serverJSON, len(st.servers))}
	for server, se := range st.servers {
		if len(se.accounts) == 0 {
			continue
		}
		sj := &serverJSON{Active: se.active, Accounts: make(map[string]accountJSON, len(se.accounts))}
		for name, t := range se.accounts {
			sj.Accounts[name] = accountJSON{Access: t.Access, Refresh: t.Refresh, ClockOffsetMS: t.ClockOffset.Milliseconds()}
		}
		f.Servers[server] = sj
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// writeReserve is the room a prepared write keeps beyond the file's
// current size: a new account's token pair with plenty to spare.
const writeReserve = 16 << 10

// pendingWrite is a temporary file in the store's directory, created and
// sized before a change is made, so that a full disk, a file size limit or
// a read-only directory shows before anything is sent to a server. It is
// made while the lock is held and lives until commit or discard.
type pendingWrite struct {
	s    *Store
	tmp  *os.File
	size int64
}

// prepare creates the temporary file and fills it with size zero bytes,
// which makes the file system allocate them now (where a later write
// could find the disk full). On failure nothing is left behind.
func (s *Store) prepare(size int64) (w *pendingWrite, err error) {
	defer func() {
		if err != nil {
			err = &writeError{path: s.path, before: true, err: err}
		}
	}()
	s.removeStaleTemps()
	tmp, err := os.CreateTemp(s.dir, tempPrefix+"*"+tempSuffix)
	if err != nil {
		return nil, err
	}
	w = &pendingWrite{s: s, tmp: tmp, size: size}
	if err := tmp.Chmod(fileMode); err != nil {
		w.discard()
		return nil, err
	}
	if _, err := tmp.Write(make([]byte, size)); err != nil {
		w.discard()
		return nil, err
	}
	return w, nil
}

// discard removes the temporary file.
func (w *pendingWrite) discard() {
	_ = w.tmp.Close()
	_ = os.Remove(w.tmp.Name())
}

// commit writes st into the prepared file, cut to its length, syncs it,
// renames it over the credentials file and syncs the directory, so that
// the file is replaced whole and the rename survives a crash. The file is
// discarded on failure.
func (w *pendingWrite) commit(st *state) (err error) {
	renamed := false
	defer func() {
		if !renamed {
			w.discard()
		}
		if err != nil {
			err = &writeError{path: w.s.path, err: err}
		}
	}()
	data, err := st.marshal()
	if err != nil {
		return err
	}
	if _, err := w.tmp.WriteAt(data, 0); err != nil {
		return err
	}
	if err := w.tmp.Truncate(int64(len(data))); err != nil {
		return err
	}
	if err := w.tmp.Sync(); err != nil {
		return err
	}
	if err := w.tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(w.tmp.Name(), w.s.path); err != nil {
		return err
	}
	renamed = true
	syncDir(w.s.dir)
	return nil
}

// The temporary files of write are tempPrefix + digits + tempSuffix.
const tempPrefix, tempSuffix = ".credentials-", ".tmp"

// removeStaleTemps deletes the temporary files that writers killed
// between creating (prepare) and renaming (commit) one have left. It runs under the lock,
// which every writer holds from creating its temporary file to renaming
// or removing it, so any such file seen here belongs to a writer that
// died. Best effort: a leftover costs disk space, not correctness.
func (s *Store) removeStaleTemps() {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if isTempName(e.Name()) && e.Type().IsRegular() {
			_ = os.Remove(filepath.Join(s.dir, e.Name()))
		}
	}
}

// isTempName reports whether name is one that os.CreateTemp gives for
// write's pattern.
func isTempName(name string) bool {
	rest, hasPrefix := strings.CutPrefix(name, tempPrefix)
	digits, hasSuffix := strings.CutSuffix(rest, tempSuffix)
	if !hasPrefix || !hasSuffix || digits == "" {
		return false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// syncDir makes a rename in dir durable. Best effort: some systems cannot
// open or sync a directory, and the rename itself has happened.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}

// processLocks holds, per credentials file, a one-slot semaphore that
// goroutines of this process take before the file lock, so that they queue
// instead of polling the file lock. The file lock alone would be correct
// (flock excludes between two descriptors of one process too); this only
// makes waiting cheaper and fairer. It grows by one entry per file used.
var processLocks sync.Map // path → chan struct{}

// lock takes the in-process and the cross-process lock, waiting at most
// until ctx is done, and returns the function that releases both.
func (s *Store) lock(ctx context.Context) (func(), error) {
	v, _ := processLocks.LoadOrStore(s.path, make(chan struct{}, 1))
	sem := v.(chan struct{})
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for the lock on %s: %w", s.path, ctx.Err())
	}
	fl := flock.New(s.lockPath, flock.SetPermissions(fileMode))
	ok, err := fl.TryLockContext(ctx, lockRetry)
	if err == nil && !ok {
		err = errors.New("not locked")
	}
	if err != nil {
		<-sem
		if ctx.Err() == nil {
			// The lock file cannot be opened (a read-only directory without
			// one): nothing can be written, and nothing was done.
			return nil, &writeError{path: s.path, before: true, err: err}
		}
		return nil, fmt.Errorf("waiting for the lock on %s: %w", s.path, err)
	}
	return func() {
		_ = fl.Unlock()
		<-sem
	}, nil
}

// change runs fn on the current state under the lock and writes the state
// if fn says it changed. The write is prepared before fn runs (see
// prepare): when the file cannot be written, fn does not run and the
// error matches ErrUnwritable; when the prepared write still fails after
// fn changed the state, the error matches ErrUnsaved and is joined with
// fn's. Nothing is written when the file cannot be read or is corrupt.
func (s *Store) change(ctx context.Context, fn func(*state) (bool, error)) error {
	_, err := s.changeReporting(ctx, fn)
	return err
}

// changeReporting is change that also reports whether fn's change failed
// to be written.
func (s *Store) changeReporting(ctx context.Context, fn func(*state) (bool, error)) (writeFailed bool, err error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if err := os.MkdirAll(s.dir, dirMode); err != nil {
		return false, &writeError{path: s.path, before: true, err: err}
	}
	unlock, err := s.lock(ctx)
	if err != nil {
		return false, err
	}
	defer unlock()
	st, err := s.read()
	if err != nil {
		return false, err
	}
	current, err := st.marshal()
	if err != nil {
		return false, err
	}
	w, err := s.prepare(int64(len(current)) + writeReserve)
	if err != nil {
		return false, err
	}
	changed, fnErr := fn(st)
	if !changed {
		w.discard()
		return false, fnErr
	}
	// From here on ctx is not consulted: tokens that a refresh rotated must
	// reach the file even if the caller has gone.
	if err := w.commit(st); err != nil {
		return true, errors.Join(fnErr, err)
	}
	return false, fnErr
}

// serverStore is the client.TokenStore of one server's active account.
type serverStore struct {
	s      *Store
	server string
	err    error // from normalising the server URL
}

func (ss *serverStore) Load(ctx context.Context) (client.Tokens, error) {
	if ss.err != nil {
		return client.Tokens{}, ss.err
	}
	if err := ctx.Err(); err != nil {
		return client.Tokens{}, err
	}
	st, err := ss.s.read()
	if err != nil {
		return client.Tokens{}, err
	}
	t, ok := st.active(ss.server)
	if !ok {
		return client.Tokens{}, fmt.Errorf("%w on %s", ErrNoActive, ss.server)
	}
	return t, nil
}

func (ss *serverStore) Save(ctx context.Context, t client.Tokens) error {
	if t.IsZero() {
		return ss.Delete(ctx)
	}
	if ss.err != nil {
		return ss.err
	}
	t, err := checked(t)
	if err != nil {
		return err
	}
	return ss.s.change(ctx, func(st *state) (bool, error) {
		st.put(ss.server, t)
		return true, nil
	})
}

func (ss *serverStore) Delete(ctx context.Context) error {
	if ss.err != nil {
		return ss.err
	}
	return ss.s.change(ctx, func(st *state) (bool, error) {
		cur, ok := st.active(ss.server)
		return ok && st.remove(ss.server, cur.Username), nil
	})
}

func (ss *serverStore) Update(ctx context.Context, fn func(current client.Tokens) (client.Tokens, error)) (client.Tokens, error) {
	if ss.err != nil {
		return client.Tokens{}, ss.err
	}
	var cur, after client.Tokens
	writeFailed, err := ss.s.changeReporting(ctx, func(st *state) (bool, error) {
		cur, _ = st.active(ss.server)
		after = cur
		next, fnErr := fn(cur)
		switch {
		case next.IsZero():
			if cur.IsZero() {
				return false, fnErr
			}
			after = client.Tokens{}
			return st.remove(ss.server, cur.Username), fnErr
		case next.Access == cur.Access && next.Refresh == cur.Refresh &&
			(next.Username == cur.Username || next.Username == ""):
			return false, fnErr
		}
		if next.Username == "" {
			next.Username = cur.Username
		}
		next, err := checked(next)
		if err != nil {
			return false, errors.Join(fnErr, err)
		}
		st.put(ss.server, next)
		after = next
		return true, fnErr
	})
	if writeFailed {
		after = cur // what is still stored
	}
	return after, err
}

// checked returns t with its claims read from its tokens, or an error if
// they cannot be, so that nothing unreadable is ever written.
func checked(t client.Tokens) (client.Tokens, error) {
	if t.Username == "" {
		return client.Tokens{}, errors.New("credstore: tokens without a username cannot be stored")
	}
	p, err := client.ParseTokens(t.Access, t.Refresh)
	if err != nil {
		return client.Tokens{}, fmt.Errorf("credstore: not storing tokens that cannot be read: %w", err)
	}
	p.Username = t.Username
	p.ClockOffset = t.ClockOffset
	return p, nil
}
