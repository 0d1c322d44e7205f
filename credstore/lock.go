package credstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/gofrs/flock"
)

// processLocks holds, per credentials file, a one-slot semaphore that
// goroutines of this process take before the file lock, so that they queue
// instead of polling the file lock. The file lock alone would be correct
// (flock excludes between two descriptors of one process too); this only
// makes waiting cheaper and fairer. It grows by one entry per file used.
var processLocks sync.Map

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
