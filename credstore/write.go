package credstore

import (
	"os"
	"path/filepath"
	"strings"
)

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
